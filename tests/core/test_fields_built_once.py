"""core.api.FieldsBuiltOnce: a ModelSerializer's fields built once per class, copied per use."""

import pytest
from django.contrib.auth import get_user_model
from rest_framework import serializers

from core.api import FieldsBuiltOnce

pytestmark = pytest.mark.django_db


class UserSerializer(FieldsBuiltOnce, serializers.ModelSerializer):
    class Meta:
        model = get_user_model()
        fields = ["id", "username", "is_active"]


class UserWithEmailSerializer(UserSerializer):
    class Meta(UserSerializer.Meta):
        fields = ["id", "username", "email"]


def test_each_serializer_gets_its_own_fields_and_its_own_data():
    first, second = (
        get_user_model().objects.create(username=name, email=f"{name}@example.org")
        for name in ("ann", "bob")
    )
    a, b = UserSerializer(first), UserSerializer(second)
    assert a.data == {"id": first.pk, "username": "ann", "is_active": True}
    assert b.data == {"id": second.pk, "username": "bob", "is_active": True}
    # Bound to their own serializer: never the same field object twice.
    assert a.fields["username"] is not b.fields["username"]
    assert a.fields["username"].parent is a and b.fields["username"].parent is b
    # A subclass builds its own fields, not its parent's.
    assert UserWithEmailSerializer(first).data == {
        "id": first.pk,
        "username": "ann",
        "email": "ann@example.org",
    }
    assert list(UserSerializer(first).data) == ["id", "username", "is_active"]
