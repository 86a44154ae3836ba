import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("correct-horse-battery")

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        for role in extracted or []:
            self.groups.add(Group.objects.get(name=role))


def region_holder(username: str, role: str, region):
    """A user of ``role`` granted ``region`` (a street, or a district: all its streets), as the
    platform grants the command centre, a street leader, a district administrator."""
    from guardian.shortcuts import assign_perm

    from grids.permissions import REGION_PERMISSION

    user = UserFactory(username=username, roles=[role])
    assign_perm(REGION_PERMISSION, user, region)
    return user
