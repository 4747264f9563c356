{{/* The chart name, or nameOverride. */}}
{{- define "helloworld-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The prefix of every object name: fullnameOverride, else the release name, followed by the chart name unless the
release name contains it already. A release named helloworld-operator gives the names of config/default.
*/}}
{{- define "helloworld-operator.fullname" -}}
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

{{/* The operator's ServiceAccount. */}}
{{- define "helloworld-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "helloworld-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name: name the existing ServiceAccount the operator runs as (serviceAccount.create is false)" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The subjects of the operator's bindings: its ServiceAccount. */}}
{{- define "helloworld-operator.subjects" -}}
- kind: ServiceAccount
  name: {{ include "helloworld-operator.serviceAccountName" . }}
  namespace: {{ .Release.Namespace }}
{{- end }}

{{/*
What selects the operator's pods: the selector of config/manager, exactly. Selectors are immutable, so a release
adopting an install of config/default (helm install --take-ownership) must keep them; and the operator's Lease
name is fixed, so one release per namespace is the model anyway (the pods carry app.kubernetes.io/instance too).
*/}}
{{- define "helloworld-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "helloworld-operator.name" . }}
app.kubernetes.io/component: operator
{{- end }}

{{/* Labels of every object: those of config/ (name, part-of), and Helm's. */}}
{{- define "helloworld-operator.labels" -}}
app.kubernetes.io/name: {{ include "helloworld-operator.name" . }}
app.kubernetes.io/part-of: helloworld-operator
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of the operator's own objects (Deployment, pods, PDB, metrics): also the component. */}}
{{- define "helloworld-operator.componentLabels" -}}
{{ include "helloworld-operator.labels" . }}
app.kubernetes.io/component: operator
{{- end }}

{{/* The image reference: repository@digest, or repository:tag. */}}
{{- define "helloworld-operator.image" -}}
{{- $repository := required "image.repository is required" .Values.image.repository }}
{{- if .Values.image.digest }}
{{- printf "%s@%s" $repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" $repository (required "image.tag or image.digest is required" .Values.image.tag | toString) }}
{{- end }}
{{- end }}

{{/*
Checks of value combinations that a schema cannot express; each failure says what to change.
*/}}
{{- define "helloworld-operator.validate" -}}
{{- if and (gt (int .Values.replicaCount) 1) (not .Values.leaderElection.enabled) }}
{{- fail (printf "replicaCount is %d but leaderElection.enabled is false: replicas without leader election would all reconcile and fight over every HelloWorld; enable leader election or set replicaCount to 1" (int .Values.replicaCount)) }}
{{- end }}
{{- $seen := dict }}
{{- range .Values.watchNamespaces }}
{{- if hasKey $seen . }}
{{- fail (printf "watchNamespaces lists %q twice; list each namespace once" .) }}
{{- end }}
{{- $_ := set $seen . true }}
{{- end }}
{{- end }}
