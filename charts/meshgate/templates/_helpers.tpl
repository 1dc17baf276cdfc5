{{/* The image every container runs: HUB/REPOSITORY:TAG, the tag defaulting to the chart's appVersion. */}}
{{- define "meshgate.image" -}}
{{ .Values.global.hub }}/{{ .Values.image.repository }}:{{ .Values.global.tag | default .Chart.AppVersion }}
{{- end }}

{{/* Labels every object carries. */}}
{{- define "meshgate.labels" -}}
app.kubernetes.io/name: meshgate
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: meshgate
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end }}

{{/* The control plane's in-cluster address of the discovery stream. */}}
{{- define "meshgate.discoveryAddress" -}}
{{- if .Values.discovery.plaintext -}}
{{ .Values.controlPlane.name }}.{{ .Release.Namespace }}.svc:{{ required "discovery.plaintext needs controlPlane.ports.plaintextDiscovery" .Values.controlPlane.ports.plaintextDiscovery }}
{{- else -}}
{{ .Values.controlPlane.name }}.{{ .Release.Namespace }}.svc:{{ .Values.controlPlane.ports.discovery }}
{{- end -}}
{{- end }}

{{- define "meshgate.imagePullSecrets" -}}
{{- with .Values.global.imagePullSecrets }}
imagePullSecrets:
{{- range . }}
  - name: {{ . }}
{{- end }}
{{- end }}
{{- end }}
