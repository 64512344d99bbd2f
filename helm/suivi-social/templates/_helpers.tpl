{{/* Name of the chart, or nameOverride. */}}
{{- define "suivi-social.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Prefix of every resource name: "<release>-<chart>", or the release alone when it already contains the chart's name. */}}
{{- define "suivi-social.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Labels of every resource. */}}
{{- define "suivi-social.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "suivi-social.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Labels that select the release's pods; a component label narrows them further. */}}
{{- define "suivi-social.selectorLabels" -}}
app.kubernetes.io/name: {{ include "suivi-social.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* ServiceAccount of the web pods and periodic jobs. */}}
{{- define "suivi-social.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "suivi-social.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* ServiceAccount of the migration hook, which must exist before the release's own resources. */}}
{{- define "suivi-social.migrationServiceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- printf "%s-migrations" (include "suivi-social.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- include "suivi-social.serviceAccountName" . }}
{{- end }}
{{- end }}

{{/* Image reference: repository, then the digest when set, else the tag or appVersion. */}}
{{- define "suivi-social.image" -}}
{{- $repository := required "image.repository is required: the registry and repository of the image built from deploy/Dockerfile." .Values.image.repository }}
{{- if .Values.image.digest }}
{{- printf "%s@%s" $repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" $repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
Check the values that have no usable default, and fail with the name of what is missing.
Included by every template that renders a pod.
*/}}
{{- define "suivi-social.validate" -}}
{{- $config := .Values.config }}
{{- range $name := list "BASE_DOMAIN" "OIDC_OP_ISSUER" "OIDC_RP_CLIENT_ID" }}
{{- if not (index $config $name) }}
{{- fail (printf "config.%s is required (see docs/environment.md)." $name) }}
{{- end }}
{{- end }}
{{- if not .Values.secrets.existingSecret }}
{{- fail "secrets.existingSecret is required: the name of the Secret holding DJANGO_SECRET_KEY, DATABASE_URL and OIDC_RP_CLIENT_SECRET (see docs/deployment.md)." }}
{{- end }}
{{- range $name := list "DJANGO_SECRET_KEY" "DATABASE_URL" "OIDC_RP_CLIENT_SECRET" }}
{{- if not (index $.Values.secrets.variables $name) }}
{{- fail (printf "secrets.variables.%s is required: the key of the Secret holding it." $name) }}
{{- end }}
{{- end }}
{{- range $name, $key := .Values.secrets.variables }}
{{- if and $key (hasKey $config $name) (not (kindIs "invalid" (index $config $name))) }}
{{- fail (printf "%s is set in both config and secrets.variables: keep it in one of them." $name) }}
{{- end }}
{{- end }}
{{- if not (has .Values.secrets.mode (list "file" "env")) }}
{{- fail (printf "secrets.mode must be \"file\" or \"env\", not %q." .Values.secrets.mode) }}
{{- end }}
{{- if hasKey .Values.migrations "parallel" }}
{{- fail "migrations.parallel was replaced by config.MIGRATION_PROCESSES: move its value there." }}
{{- end }}
{{- if and (not $config.AWS_STORAGE_BUCKET_NAME) (not .Values.media.existingClaim) }}
{{- fail "Uploaded documents need storage: set config.AWS_STORAGE_BUCKET_NAME (an S3 bucket) or media.existingClaim (a PersistentVolumeClaim mounted at config.MEDIA_ROOT)." }}
{{- end }}
{{- end }}

{{/* A value of `config` as a string; whole numbers read as floats from YAML lose their ".0". */}}
{{- define "suivi-social.configValue" -}}
{{- if and (kindIs "float64" .) (eq (float64 .) (floor .)) }}
{{- int64 . }}
{{- else }}
{{- . }}
{{- end }}
{{- end }}

{{/* Environment of every container: `config` in order of name, then the secret variables. */}}
{{- define "suivi-social.env" -}}
{{- range $name, $value := .Values.config }}
{{- if not (kindIs "invalid" $value) }}
- name: {{ $name }}
  value: {{ include "suivi-social.configValue" $value | quote }}
{{- end }}
{{- end }}
{{- range $name, $key := .Values.secrets.variables }}
{{- if $key }}
{{- if eq $.Values.secrets.mode "file" }}
- name: {{ $name }}_FILE
  value: {{ printf "%s/%s" $.Values.secrets.mountPath $key | quote }}
{{- else }}
- name: {{ $name }}
  valueFrom:
    secretKeyRef:
      name: {{ $.Values.secrets.existingSecret }}
      key: {{ $key }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Volumes of every pod: /tmp, the secret files in "file" mode, and the documents' claim when the
pod needs it (pass a dict with "root" and "media").
*/}}
{{- define "suivi-social.volumes" -}}
{{- $values := .root.Values }}
- name: tmp
  emptyDir:
    sizeLimit: {{ $values.tmpSizeLimit }}
{{- if eq $values.secrets.mode "file" }}
- name: secrets
  secret:
    secretName: {{ $values.secrets.existingSecret }}
    defaultMode: 0440
    items:
    {{- range $name, $key := $values.secrets.variables }}
    {{- if $key }}
      - key: {{ $key }}
        path: {{ $key }}
    {{- end }}
    {{- end }}
{{- end }}
{{- if and .media $values.media.existingClaim }}
- name: media
  persistentVolumeClaim:
    claimName: {{ $values.media.existingClaim }}
{{- end }}
{{- end }}

{{/* Mounts matching suivi-social.volumes (same dict argument). */}}
{{- define "suivi-social.volumeMounts" -}}
{{- $values := .root.Values }}
- name: tmp
  mountPath: /tmp
{{- if eq $values.secrets.mode "file" }}
- name: secrets
  mountPath: {{ $values.secrets.mountPath }}
  readOnly: true
{{- end }}
{{- if and .media $values.media.existingClaim }}
- name: media
  mountPath: {{ required "config.MEDIA_ROOT is required with media.existingClaim: the folder where the claim is mounted." $values.config.MEDIA_ROOT }}
{{- end }}
{{- end }}
