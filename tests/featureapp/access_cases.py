from tests.access_matrix import Case, url


def objects(base: dict) -> dict:
    return {}


CASES = [Case("featureapp:notices", url("featureapp:notices"))]
