"""Enumerations of the beneficiary file, with the French labels agents know."""

from django.db import models


class Role(models.TextChoices):
    MANAGER = "manager", "Responsable de structure"
    SOCIAL_WORKER = "social_worker", "Travailleur social"
    INSTRUCTOR = "instructor", "Instructeur"
    RECEPTION_AGENT = "reception_agent", "Agent d'accueil/CNFS"
    REFERENT = "referent", "Référent"


class BeneficiaryStatus(models.TextChoices):
    ACTIVE = "active", "Actif"
    INACTIVE = "inactive", "Inactif"
    ARCHIVED = "archived", "Archivé"
    DECEASED = "deceased", "Décédé·e"


class Civility(models.TextChoices):
    MISTER = "mister", "M."
    MISS = "miss", "Mme."


class Gender(models.TextChoices):
    FEMALE = "female", "Femme"
    MALE = "male", "Homme"
    OTHER = "other", "Autre"


class AccommodationMode(models.TextChoices):
    NURSING_HOME = "nursing_home", "EHPAD, résidence senior"
    EMERGENCY_HOUSING = "emergency_housing", "Hébergement de type CHRS, CHU, CPH, CADA..."
    PARENTS = "parents", "Hébergé·e au domicile parental"
    THIRD_PERSON = "third_person", "Hébergé·e chez un tiers"
    PRIVATE_RENTING = "private_renting", "Locataire parc privé"
    SOCIAL_RENTING = "social_renting", "Locataire parc social"
    FORTUNE = "fortune", "Logement de fortune"
    SUBSTANDARD = "substandard", "Logement insalubre"
    OWNER = "owner", "Propriétaire"
    NONE = "none", "Sans hébergement"
    OTHER = "other", "Autre type de logement (hôtel...)"


class FamilySituation(models.TextChoices):
    SINGLE = "single", "Célibataire"
    DIVORCED = "divorced", "Divorcé·e"
    COHABITATION = "cohabitation", "En concubinage"
    COUPLE_WITH_CHILDREN = "couple_with_children", "En couple avec enfant(s)"
    MARRIED = "married", "Marié·e"
    CIVIL_UNION = "civil_union", "Pacsé·e"
    SINGLE_PARENT_WITH_CHILDREN = "single_parent_with_children", "Parent isolé·e avec enfant(s)"
    SEPARATED = "separated", "Séparé·e"
    WIDOW = "widow", "Veuf·ve"
    OTHER = "other", "Autre"


class Mobility(models.TextChoices):
    NONE = "none", "Aucun moyen de transport à disposition"
    CODE = "code", "Code obtenu"
    PUBLIC_TRANSPORT = "public_transport", "Dépendant des transports en commun"
    PERMIT_WITH_VEHICLE = "permit_with_vehicle", "Permis B avec véhicule (voiture, moto, scooter)"
    PERMIT_WITHOUT_VEHICLE = "permit_without_vehicle", "Permis B sans véhicule"
    PERMIT_PENDING = "permit_pending", "Permis et/ou code en cours"
    INVALID_PERMIT = "invalid_permit", "Permis non valide ou suspendu"
    VEHICLE_WITHOUT_PERMIT = "vehicle_without_permit", "Véhicule sans permis"
    BIKE_OR_EQUIVALENT = "bike_or_equivalent", "Vélo ou trottinette électrique"
    OTHER_PERMIT = "other_permit", "Autres permis (poids lourds, bus)"


class FollowupTypeKind(models.TextChoices):
    LEGAL = "legal", "Accompagnement légal"
    OPTIONAL = "optional", "Accompagnement facultatif"


# The default catalogue of follow-up types seeded in every new structure: (code, label, kind).
# Labels follow the reference product, including its "Allocation personnalisées d'autonomie".
DEFAULT_FOLLOWUP_TYPES = [
    ("domiciliation", "Domiciliation", FollowupTypeKind.LEGAL),
    ("demande_aides_menageres", "Demande d'aides ménagères", FollowupTypeKind.LEGAL),
    ("obligation_alimentaire", "Obligation alimentaire", FollowupTypeKind.LEGAL),
    ("aide_medicale_etat", "Aide médicale d'État", FollowupTypeKind.LEGAL),
    ("complementaire_sante_solidaire", "Complémentaire santé solidaire", FollowupTypeKind.LEGAL),
    (
        "allocation_solidarite_personnes_agees",
        "Allocation de solidarité aux personnes âgées",
        FollowupTypeKind.LEGAL,
    ),
    (
        "allocation_personnalisee_autonomie",
        "Allocation personnalisées d'autonomie",
        FollowupTypeKind.LEGAL,
    ),
    ("revenu_solidarite_active", "Revenu de solidarité active", FollowupTypeKind.LEGAL),
    ("aide_sociale", "Aide sociale", FollowupTypeKind.LEGAL),
    ("entree_famille_accueil", "Entrée en famille d'accueil", FollowupTypeKind.LEGAL),
    (
        "entree_hebergement_personnes_agees",
        "Entrée en hébergement pour personnes âgées",
        FollowupTypeKind.LEGAL,
    ),
    (
        "entree_etablissement_personnes_handicapees",
        "Entrée en établissement pour personnes handicapées",
        FollowupTypeKind.LEGAL,
    ),
    ("puma", "PUMA", FollowupTypeKind.LEGAL),
    ("accompagnement_social", "Accompagnement social", FollowupTypeKind.OPTIONAL),
    (
        "aides_financieres_non_remboursables",
        "Aides financières non remboursables",
        FollowupTypeKind.OPTIONAL,
    ),
    (
        "aides_financieres_remboursables",
        "Aides financières remboursables",
        FollowupTypeKind.OPTIONAL,
    ),
    ("animations_seniors", "Animations seniors", FollowupTypeKind.OPTIONAL),
    ("animations_familles", "Animations familles", FollowupTypeKind.OPTIONAL),
    ("inclusion_numerique", "Inclusion numérique", FollowupTypeKind.OPTIONAL),
    ("plan_alerte_urgence", "Plan alerte et urgence", FollowupTypeKind.OPTIONAL),
    ("aide_transport", "Aide au transport", FollowupTypeKind.OPTIONAL),
    ("soutien_administratif", "Soutien administratif", FollowupTypeKind.OPTIONAL),
    ("aide_alimentaire", "Aide alimentaire", FollowupTypeKind.OPTIONAL),
    ("autre", "Autre", FollowupTypeKind.OPTIONAL),
]
