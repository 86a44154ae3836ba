"""The people of an adjustment's chain, each holding the container their step asks for
(powers.permissions.step_decide_check): who proposes and who decides each step."""

from dataclasses import dataclass

from tests.factories.users import region_holder as holder


@dataclass
class ChainPeople:
    command: object  # proposes (the street's command centre)
    leader: object  # decides the street's step
    district: object  # decides the district's step
    city: object  # records the city's (or province's) reply: another district administrator


def chain_people(street, prefix: str = "hh") -> ChainPeople:
    return ChainPeople(
        command=holder(f"{prefix}_command", "command_centre", street),
        leader=holder(f"{prefix}_leader", "street_leader", street),
        district=holder("district_admin", "district_admin", street.parent),
        city=holder("district_office", "district_admin", street.parent),
    )
