{{- define "parlor.fullname" -}}{{ .Release.Name }}-parlor{{- end -}}
{{- define "parlor.secretName" -}}{{ .Values.livekit.existingSecret | default (printf "%s-keys" (include "parlor.fullname" .)) }}{{- end -}}
{{- define "parlor.postgresqlSecret" -}}{{ .Values.postgresql.existingSecret | default (printf "%s-postgresql" (include "parlor.fullname" .)) }}{{- end -}}
{{- define "parlor.labels" -}}
app.kubernetes.io/name: parlor
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}
{{- /* The checks every render makes first: values that cannot work together fail here. */ -}}
{{- define "parlor.validate" -}}
{{- if and (not .Values.postgresql.enabled) (not .Values.app.databaseUrl) (not .Values.app.existingSecret) -}}
{{- fail "parlor app needs PostgreSQL here: set postgresql.enabled=true, app.databaseUrl or app.existingSecret (a pod's SQLite file would not survive a restart, and several app instances share one database)" -}}
{{- end -}}
{{- if and .Values.media.enabled (gt (int .Values.media.replicas) 1) -}}
{{- fail "media.replicas must be 1: rooms live in one media server's memory (use an external LiveKit cluster, livekit.url with media.enabled=false, to scale out)" -}}
{{- end -}}
{{- if and (not .Values.media.enabled) (not .Values.livekit.url) -}}
{{- fail "media.enabled=false needs livekit.url (an external LiveKit)" -}}
{{- end -}}
{{- if lt (int .Values.media.rtc.workers) 1 -}}
{{- fail "media.rtc.workers must be at least 1" -}}
{{- end -}}
{{- end -}}
