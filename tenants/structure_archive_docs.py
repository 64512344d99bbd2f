"""The French documentation inside a structure's archive: what each table and column holds.

Descriptions come from the models' verbose names, help texts and choices, found through the
app registry by table name, so this module never imports the tenant models.
"""

from typing import Any

from django.apps import apps
from django.db import models
from django.utils import translation


def build_documentation(manifest: dict[str, Any]) -> str:
    """Return the Markdown documentation of the archive described by ``manifest``."""
    structure = manifest["structure"]
    models_by_table = {
        model._meta.db_table: model for model in apps.get_models(include_auto_created=True)
    }
    lines = [
        f"# Données de la structure « {structure['name']} »",
        "",
        f"Archive exportée de Suivi Social le {manifest['exported_at']} (heure UTC), "
        f"identifiant de la structure : `{structure['slug']}`.",
        "",
        "## Contenu de l'archive",
        "",
        "- `manifeste.json` : la version du format, la structure, les adresses e-mail invitées, "
        "la date de l'export, les migrations du schéma et, pour chaque table et chaque fichier, "
        "son nombre de lignes ou sa taille et sa somme de contrôle SHA-256.",
        "- `tables/` : un fichier CSV par table, encodé en UTF-8, séparé par des virgules. La "
        "première ligne donne les noms des colonnes, dans l'ordre décrit ci-dessous, et les "
        "lignes sont triées par clé primaire. Une valeur vide sans guillemets signifie "
        '« non renseigné » ; `""` est un texte vide. Les listes sont écrites entre '
        "accolades, par exemple `{logement,sante}`, les dates au format ISO 8601 avec leur "
        "décalage horaire et les montants avec un point décimal.",
        "- `fichiers/` : les fichiers déposés dans la structure (pièces jointes, procès-verbaux "
        "de commission), rangés sous le chemin que donne la colonne `file` ou `minutes` de "
        "leur table.",
        "",
        "Tables non exportées :",
        "",
    ]
    for table, reason in manifest["excluded_tables"].items():
        lines.append(f"- `{table}` : {reason}.")
    lines.append("")
    lines.append("## Tables")

    with translation.override("fr"):
        for table in manifest["tables"]:
            lines.extend(_table_section(table, models_by_table.get(table["name"])))
    return "\n".join(lines) + "\n"


def _table_section(table: dict[str, Any], model: type[models.Model] | None) -> list[str]:
    lines = ["", f"### `{table['name']}` : {_table_title(model)}", ""]
    lines.append(
        f"Fichier `{table['file']}`, {table['rows']} ligne(s), clé primaire : "
        + ", ".join(f"`{name}`" for name in table["primary_key"])
        + "."
    )
    lines.extend(["", "| Colonne | Type | Description |", "| --- | --- | --- |"])
    fields = {}
    if model is not None:
        fields = {field.column: field for field in model._meta.concrete_fields}
    for column in table["columns"]:
        description = _describe(fields.get(column["name"]))
        if not column["nullable"]:
            description += " Toujours renseignée."
        lines.append(f"| `{column['name']}` | {column['type']} | {_cell(description)} |")
    return lines


def _table_title(model: type[models.Model] | None) -> str:
    if model is None:
        return "table sans description"
    if model._meta.auto_created:
        # A many-to-many link table: name the two sides.
        sides = [field.related_model._meta.verbose_name for field in _foreign_keys(model)]
        return "liaison entre " + " et ".join(str(side) for side in sides)
    return str(model._meta.verbose_name)


def _foreign_keys(model: type[models.Model]) -> list[Any]:
    return [field for field in model._meta.concrete_fields if field.is_relation]


def _describe(field: Any) -> str:
    if field is None:
        return "Sans description."
    if field.primary_key:
        text = "Identifiant de la ligne."
    else:
        text = _sentence(str(field.verbose_name))
    if field.help_text:
        text += " " + _sentence(str(field.help_text))
    if field.is_relation and field.related_model is not None:
        target = field.related_model._meta
        text += f" Identifiant d'une ligne de `{target.db_table}` ({target.verbose_name})."
    choices = getattr(field, "choices", None) or getattr(
        getattr(field, "base_field", None), "choices", None
    )
    if choices:
        values = ", ".join(f"`{value}` : {label}" for value, label in _flat(choices))
        text += f" Valeurs possibles : {values}."
    return text


def _flat(choices: Any) -> list[tuple[Any, str]]:
    """Return the (value, label) pairs of ``choices``, groups included."""
    pairs = []
    for value, label in choices:
        if isinstance(label, list | tuple):
            pairs.extend((inner, str(inner_label)) for inner, inner_label in label)
        else:
            pairs.append((value, str(label)))
    return pairs


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "?", "!")) else text + "."


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
