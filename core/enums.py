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
    MISS = "miss", "Mme"


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


class AccommodationZone(models.TextChoices):
    FRANCE = "france", "France"
    EUROPE = "europe", "Union européenne"
    OUTSIDE_EUROPE = "outside_europe", "Hors Union européenne"


class Gir(models.TextChoices):
    LEVEL_1 = "level_1", "Niveau 1"
    LEVEL_2 = "level_2", "Niveau 2"
    LEVEL_3 = "level_3", "Niveau 3"
    LEVEL_4 = "level_4", "Niveau 4"
    LEVEL_5 = "level_5", "Niveau 5"
    LEVEL_6 = "level_6", "Niveau 6"


class SocioProfessionalCategory(models.TextChoices):
    SICK_LEAVE = "sick_leave", "Arrêt maladie"
    JOB_SEEKER = "job_seeker", "En recherche d'emploi"
    DISABILITY = "disability", "Invalidité"
    HOUSEWIFE = "housewife", "Mère au foyer"
    RETIRED = "retired", "Retraité"
    EMPLOYED = "employed", "Salarié"
    NO_ACTIVITY = "no_activity", "Sans activité (non inscrit à Pôle Emploi)"
    OTHER = "other", "Autre"


class IncomeSource(models.TextChoices):
    AAH = "aah", "AAH"
    APL = "apl", "APL"
    ASPA = "aspa", "ASPA"
    DAILY_ALLOWANCES = "daily_allowances", "Indemnités journalières"
    UNEMPLOYMENT_BENEFITS = "unemployment_benefits", "Indemnités Pôle Emploi : ARE/ASS"
    DISABILITY_PENSION = "disability_pension", "Pension d'invalidité"
    FAMILY_BENEFITS = "family_benefits", "Prestations familiales"
    ACTIVITY_BONUS = "activity_bonus", "Prime d'activité"
    RETIREMENT_PENSION = "retirement_pension", "Retraite"
    RSA = "rsa", "RSA"
    SALARY = "salary", "Salaire"
    CHILD_SUPPORT = "child_support", "Pension alimentaire"
    OTHER = "other", "Autre"


class PensionOrganisation(models.TextChoices):
    AGIRC_ARRCO = "agirc_arrco", "AGIRC ARRCO"
    AG2R = "ag2r", "AG2R"
    CNAV_CARSAT = "cnav_carsat", "CNAV/CARSAT"
    CIPAV = "cipav", "CIPAV"
    CNRACL = "cnracl", "CNRACL"
    EDF = "edf", "EDF"
    IRCANTEC = "ircantec", "IRCANTEC"
    KLESIA = "klesia", "KLESIA"
    SRE = "sre", "SRE"
    SSI = "ssi", "SSI (ex-RSI)"
    MALAKOFF_HUMANIS = "malakoff_humanis", "Malakoff Humanis"
    MSA = "msa", "MSA"
    PRO_BTP = "pro_btp", "ProBTP"
    RETRAITE_DES_MINES = "retraite_des_mines", "Retraite des mines"
    OTHER = "other", "Autre(s)"


class ProtectionMeasure(models.TextChoices):
    CURATELLE_SIMPLE = "curatelle_simple", "Curatelle simple"
    CURATELLE_RENFORCEE = "curatelle_renforcee", "Curatelle renforcée"
    HABILITATION_CONJOINT = "habilitation_conjoint", "Habilitation du conjoint"
    HABILITATION_FAMILIALE = "habilitation_familiale", "Habilitation familiale"
    MANDAT_PROTECTION_FUTURE = "mandat_protection_future", "Mandat de protection future"
    MESURE_ACCOMPAGNEMENT = "mesure_accompagnement", "Mesure d'accompagnement (Masp/Maj/MJAGBF)"
    SAUVEGARDE_JUSTICE = "sauvegarde_justice", "Sauvegarde de justice"
    TUTELLE = "tutelle", "Tutelle"


class OrientationType(models.TextChoices):
    ASSOCIATION = "association", "Orientation Association"
    DEPARTEMENT = "departement", "Orientation Département"
    ELU = "elu", "Orientation Élu"
    TIERS = "tiers", "Signalement d'un tiers"
    SPONTANEE = "spontanee", "Spontanée"
    SUIVI_CABINET = "suivi_cabinet", "Suivi cabinet"
    AUTRE = "autre", "Autre"


class RelativeRelationship(models.TextChoices):
    SPOUSE = "spouse", "Conjoint·e"
    MAJOR_CHILD = "major_child", "Enfant majeur"
    MINOR_CHILD = "minor_child", "Enfant mineur"
    SIBLING = "sibling", "Fratrie"
    GRANDPARENT = "grandparent", "Grand-parent"
    PARENT = "parent", "Parent"
    THIRD_PARTY = "third_party", "Tiers"
    NEIGHBOUR = "neighbour", "Voisin·e"
    OTHER_FAMILY_MEMBER = "other_family_member", "Autre membre de la famille"


# Family situations in which a partner's income is asked for.
COUPLE_SITUATIONS = {
    "cohabitation",
    "couple_with_children",
    "married",
    "civil_union",
}

# Age brackets of the reference product's statistics and list filter: (label, min, max).
AGE_BRACKETS = [
    ("under_25", "- de 25 ans", 0, 24),
    ("25_34", "25 à 34 ans", 25, 34),
    ("35_44", "35 à 44 ans", 35, 44),
    ("45_54", "45 à 54 ans", 45, 54),
    ("55_64", "55 à 64 ans", 55, 64),
    ("65_plus", "65 ans et +", 65, 200),
]


class FollowupMedium(models.TextChoices):
    UNPLANNED_IN_PERSON = "unplanned_in_person", "Accueil physique spontané"
    PLANNED_IN_PERSON = "planned_in_person", "Accueil physique sur rendez-vous"
    POSTAL_MAIL = "postal_mail", "Courrier"
    THIRD_PARTY = "third_party", "Entretien avec un tiers"
    PHONE_CALL = "phone_call", "Entretien téléphonique"
    EMAIL = "email", "E-mail"
    HOME_VISIT = "home_visit", "Rendez-vous à domicile"
    EXTERNAL_APPOINTMENT = "external_appointment", "Rendez-vous extérieur"
    VIDEOCONFERENCE = "videoconference", "Visioconférence"


class FollowupStatus(models.TextChoices):
    TODO = "todo", "À traiter"
    IN_PROGRESS = "in_progress", "En cours"
    DONE = "done", "Terminé"


class HelpRequestStatus(models.TextChoices):
    WAITING_ADDITIONAL_INFORMATION = "waiting_additional_information", "En attente de justificatifs"
    INVESTIGATION_ONGOING = "investigation_ongoing", "En cours d'instruction"
    ACCEPTED = "accepted", "Accepté"
    REFUSED = "refused", "Refusé"
    ADJOURNED = "adjourned", "Ajourné"
    CLOSED_BY_BENEFICIARY = "closed_by_beneficiary", "Clôturé par le bénéficiaire"
    DISMISSED = "dismissed", "Classé sans suite"


# Allowed status changes of an aid request: {from: {to, ...}}. A decision (accepted, refused)
# is reached from instruction or adjournment; a refused request may be examined again after an
# appeal ("recours gracieux"); closed and dismissed requests may be reopened.
HELP_REQUEST_TRANSITIONS = {
    "waiting_additional_information": {
        "investigation_ongoing",
        "closed_by_beneficiary",
        "dismissed",
    },
    "investigation_ongoing": {
        "waiting_additional_information",
        "accepted",
        "refused",
        "adjourned",
        "closed_by_beneficiary",
        "dismissed",
    },
    "adjourned": {
        "investigation_ongoing",
        "waiting_additional_information",
        "accepted",
        "refused",
        "dismissed",
    },
    "accepted": {"closed_by_beneficiary"},
    "refused": {"investigation_ongoing"},
    "closed_by_beneficiary": {"investigation_ongoing"},
    "dismissed": {"investigation_ongoing"},
}


class FinancialAidReason(models.TextChoices):
    FOOD = "food", "Alimentation"
    ENERGY = "energy", "Énergie"
    HOUSING = "housing", "Logement"
    OTHER = "other", "Autre"


class InstructionKind(models.TextChoices):
    INTERNAL = "internal", "En interne"
    EXTERNAL = "external", "Par une organisation extérieure"


class PaymentMethod(models.TextChoices):
    FOOD_STAMPS = "food_stamps", "Bons alimentaires"
    CREDIT_CARD = "credit_card", "Carte bancaire"
    CHECK = "check", "Chèque"
    CASH = "cash", "Espèces"
    WIRE_TRANSFER = "wire_transfer", "Virement"


class CommitteeKind(models.TextChoices):
    STANDING = "standing", "Commission permanente"
    BOARD = "board", "CA du CCAS"


class DocumentType(models.TextChoices):
    CERFA = "cerfa", "CERFA"
    MAIL_HISTORY = "mail_history", "Historique Courrier"
    PROOF = "proof", "Justificatifs"
    REPORT = "report", "Rapports"


class DocumentTheme(models.TextChoices):
    EMPLOYMENT = "employment", "Emploi"
    HEALTH_DISABILITY = "health_disability", "Santé-Handicap"
    HOME_SUPPORT = "home_support", "Maintien à domicile"
    BUDGET_RESOURCES = "budget_resources", "Budget-Ressources"
    HOUSING = "housing", "Logement"
    TAX = "tax", "Impôt"
    JUSTICE = "justice", "Justice"
    RETIREMENT = "retirement", "Retraite"
    SOCIAL_BENEFITS = "social_benefits", "Prestations sociales"


class NotificationKind(models.TextChoices):
    NEW_DOCUMENT = "new_document", "Nouveau document"
    NEW_COMMENT = "new_comment", "Nouveau commentaire"
    DUE_DATE = "due_date", "Échéance atteinte"
    END_OF_SUPPORT = "end_of_support", "Fin de prise en charge"
    ARCHIVING_SOON = "archiving_soon", "Archivage prochain"
