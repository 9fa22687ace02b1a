from casemgmt import access
from tests.featureapp.models import Notice


def notices_for(*, user):
    return Notice.objects.filter(organisation=access.organisation_of(user)).with_data_keys()
