{{- define "parlor.fullname" -}}{{ .Release.Name }}-parlor{{- end -}}
{{- define "parlor.secretName" -}}{{ .Values.livekit.existingSecret | default (printf "%s-keys" (include "parlor.fullname" .)) }}{{- end -}}
