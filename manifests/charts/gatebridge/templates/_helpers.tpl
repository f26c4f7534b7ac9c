{{/* The base name of every object: the release name, with "gatebridge" in it. */}}
{{- define "gatebridge.fullname" -}}
{{- if contains "gatebridge" .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-gatebridge" .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Selector labels; call with (dict "ctx" . "component" "controller"). */}}
{{- define "gatebridge.selectorLabels" -}}
app.kubernetes.io/name: gatebridge
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
{{- with .component }}
app.kubernetes.io/component: {{ . }}
{{- end }}
{{- end -}}

{{/* Labels of every object; call with (dict "ctx" . "component" "controller"). */}}
{{- define "gatebridge.labels" -}}
{{ include "gatebridge.selectorLabels" . }}
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .ctx.Chart.Name .ctx.Chart.Version }}
{{- end -}}

{{/* The controller's image. */}}
{{- define "gatebridge.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{/* The affinity of a component: the value, or a preferred anti-affinity that spreads
     its replicas over nodes. Call with (dict "ctx" . "component" "envoy" "affinity" ...). */}}
{{- define "gatebridge.affinity" -}}
{{- if .affinity -}}
{{ toYaml .affinity }}
{{- else -}}
podAntiAffinity:
  preferredDuringSchedulingIgnoredDuringExecution:
    - weight: 100
      podAffinityTerm:
        topologyKey: kubernetes.io/hostname
        labelSelector:
          matchLabels:
            {{- include "gatebridge.selectorLabels" . | nindent 12 }}
{{- end -}}
{{- end -}}
