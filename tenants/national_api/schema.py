"""The national API's OpenAPI description: response shapes, parameters, errors and the token
scheme, read by drf-spectacular. The views build plain dictionaries; these serializers only
describe them (tests/tenants/test_national_api.py checks responses against the schema).
"""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from tenants.models import Structure

SCHEMA_SETTINGS = {
    "TITLE": "Suivi Social : API des statistiques nationales",
    "DESCRIPTION": (
        "Les chiffres mensuels de l'activité des structures (CCAS et CIAS), structure par "
        "structure et pour l'ensemble du pays, sans aucune donnée personnelle : dossiers "
        "actifs et nouveaux, entretiens par type d'accompagnement et par moyen, demandes "
        "d'aide par type et par statut, montants demandés, accordés et payés.\n\n"
        "**Authentification** : en-tête `Authorization: Bearer <jeton>`, avec un jeton créé "
        "par l'équipe nationale dans la console (page « Jetons de l'API »).\n\n"
        "**Période** : `debut` et `fin` au format AAAA-MM, 60 mois au plus ; par défaut les 12 "
        "derniers mois. Chaque réponse donne la liste des mois (`months`), et chaque chiffre "
        "est une série : une valeur par mois, dans le même ordre.\n\n"
        "**Secret statistique** : un chiffre masqué vaut `null`. Un effectif inférieur au "
        "seuil (`threshold`) est masqué, ainsi qu'un effectif complémentaire dans chaque total "
        "dont il fait partie, pour qu'aucune soustraction entre chiffres publiés ne le révèle. "
        "Un montant est masqué avec le nombre de demandes d'aide qu'il additionne. Une "
        "catégorie absente d'une répartition vaut zéro sur toute la période.\n\n"
        "`refreshed_at` donne la date du dernier calcul des chiffres d'une structure."
    ),
    "VERSION": "1",
}

PERIOD_PARAMETERS = [
    OpenApiParameter(
        "debut",
        str,
        description=(
            "Premier mois, au format AAAA-MM, de 1900-01 à 2100-12 (par défaut 11 mois avant "
            "`fin`)."
        ),
        pattern=r"^\d{4}-\d{2}$",
    ),
    OpenApiParameter(
        "fin",
        str,
        description=(
            "Dernier mois, au format AAAA-MM, de 1900-01 à 2100-12 (par défaut le mois en cours)."
        ),
        pattern=r"^\d{4}-\d{2}$",
    ),
]


def _counts(help_text: str) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.IntegerField(min_value=0, allow_null=True),
        help_text=f"{help_text} Une valeur par mois de `months` ; null : secret statistique.",
    )


def _amounts(help_text: str) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True),
        help_text=(
            f"{help_text} En euros, une valeur par mois de `months` ; null : secret statistique."
        ),
    )


class AmountSeries(serializers.Serializer):
    count = _counts("Nombre de demandes d'aide.")
    amount = _amounts("Somme de leurs montants.")


class AmountFamily(serializers.Serializer):
    total = AmountSeries(help_text="Toutes les demandes d'aide.")
    by_type = serializers.DictField(
        child=AmountSeries(),
        help_text="Par type d'accompagnement (code), par exemple `aide_alimentaire`.",
    )


class Interviews(serializers.Serializer):
    total = _counts("Entretiens du mois.")
    by_type = serializers.DictField(
        child=_counts("Entretiens du type."),
        help_text=(
            "Par type d'accompagnement (code). Un entretien de plusieurs types compte dans "
            "chacun : la somme peut dépasser le total."
        ),
    )
    by_type_medium = serializers.DictField(
        child=serializers.DictField(child=_counts("Entretiens du type et du moyen.")),
        help_text="Par type d'accompagnement, puis par moyen (par exemple `phone_call`).",
    )


class AidRequests(serializers.Serializer):
    total = _counts("Demandes d'aide ouvertes dans le mois.")
    by_type = serializers.DictField(
        child=_counts("Demandes du type."), help_text="Par type d'accompagnement (code)."
    )
    by_status = serializers.DictField(
        child=_counts("Demandes du statut."),
        help_text="Par statut actuel (par exemple `accepted`, `refused`).",
    )
    by_type_status = serializers.DictField(
        child=serializers.DictField(child=_counts("Demandes du type et du statut.")),
        help_text="Par type d'accompagnement, puis par statut.",
    )


class Figures(serializers.Serializer):
    active_files = _counts("Dossiers avec un entretien ou une demande d'aide dans le mois.")
    new_files = _counts("Dossiers créés dans le mois.")
    interviews = Interviews()
    aid_requests = AidRequests()
    aid_requested = AmountFamily(
        help_text="Demandes d'aide ouvertes dans le mois avec un montant demandé."
    )
    aid_granted = AmountFamily(
        help_text=(
            "Demandes d'aide accordées dans le mois (date de décision, à défaut date "
            "d'ouverture), avec le montant attribué."
        )
    )
    aid_paid = AmountFamily(help_text="Demandes d'aide payées dans le mois, avec le montant payé.")


class Period(serializers.Serializer):
    start = serializers.CharField(help_text="Premier mois, AAAA-MM.")
    end = serializers.CharField(help_text="Dernier mois, AAAA-MM.")


class Envelope(serializers.Serializer):
    period = Period()
    months = serializers.ListField(
        child=serializers.CharField(), help_text="Les mois de la période, AAAA-MM, dans l'ordre."
    )
    threshold = serializers.IntegerField(help_text="Seuil du secret statistique.")
    suppression = serializers.CharField(help_text="La règle du secret statistique, en clair.")


class NationalTotalsResponse(Envelope):
    figures = Figures(help_text="Chiffres de l'ensemble des structures.")


class StructureSummary(serializers.Serializer):
    slug = serializers.CharField(help_text="Identifiant de la structure.")
    name = serializers.CharField(help_text="Nom de la structure.")
    kind = serializers.ChoiceField(choices=Structure.Kind.choices, help_text="CCAS ou CIAS.")
    status = serializers.ChoiceField(
        choices=Structure.Status.choices,
        help_text="État de la structure ; une structure suspendue garde ses derniers chiffres.",
    )
    refreshed_at = serializers.DateTimeField(
        allow_null=True,
        help_text=(
            "Date du dernier calcul des chiffres de la période, null si la période n'en a aucun."
        ),
    )
    figures = Figures()


class StructureListResponse(Envelope):
    count = serializers.IntegerField(help_text="Nombre total de structures.")
    page = serializers.IntegerField(help_text="Numéro de cette page.")
    page_size = serializers.IntegerField(help_text="Nombre de structures par page.")
    next_page = serializers.IntegerField(
        allow_null=True, help_text="Numéro de la page suivante, null sur la dernière page."
    )
    structures = StructureSummary(many=True)


class StructureDetailResponse(Envelope):
    structure = StructureSummary()


class Detail(serializers.Serializer):
    detail = serializers.CharField(help_text="Message d'erreur.")


ERRORS: dict[int, Any] = {
    400: OpenApiResponse(
        response={"type": "object", "additionalProperties": {"type": "string"}},
        description="Paramètre invalide : le message, par nom de paramètre.",
    ),
    401: OpenApiResponse(response=Detail, description="Jeton absent, invalide ou révoqué."),
    404: OpenApiResponse(response=Detail, description="Structure ou adresse introuvable."),
}


class NationalTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "tenants.national_api.authentication.NationalTokenAuthentication"
    name = "jetonNational"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "Jeton de l'API nationale, créé dans la console nationale.",
        }
