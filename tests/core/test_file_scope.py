"""The complete file (health section, relatives, history tab) seen by roles with a narrow
scope."""

from django_tenants.utils import tenant_context

from core.models import Relative
from core.services.beneficiaries import create_beneficiary, save_relative
from tests.helpers import page_text


def test_referent_not_shown_unreachable_linking_file(alpha):
    agents = alpha.agents
    with tenant_context(alpha.structure):
        own_file = create_beneficiary(
            agents["manager"], {"usual_name": "Suivie"}, [agents["referent"]]
        )
        other_file = create_beneficiary(
            agents["manager"],
            {"usual_name": "Cachée", "first_names": "Personne"},
            [agents["social_worker"]],
        )
        # The manager reaches both files and records the referent's person as a relative of
        # the other one.
        save_relative(
            agents["manager"],
            other_file,
            Relative(),
            {
                "relationship": "minor_child",
                "first_name": "",
                "last_name": "",
                "linked_beneficiary": own_file,
            },
        )
    client = alpha.client("referent")

    page = page_text(client.get(f"/beneficiaires/{own_file.file_number}/"))

    assert client.get(f"/beneficiaires/{other_file.file_number}/").status_code == 404
    assert "CACHÉE" not in page
    assert other_file.file_number not in page


def test_reception_agent_history_hides_full_info(alpha):
    # A reception agent has no VIEW_FULL_INFO, so the health section is hidden from them.
    with tenant_context(alpha.structure):
        beneficiary = create_beneficiary(
            alpha.agents["manager"],
            {
                "usual_name": "Suivie",
                "doctor": "Docteur Secret",
                "health_additional_information": "Diabète",
            },
            [alpha.agents["manager"]],
        )

    page = page_text(
        alpha.client("reception_agent").get(f"/beneficiaires/{beneficiary.file_number}/")
    )

    assert "Docteur Secret" not in page
    assert "Diabète" not in page
