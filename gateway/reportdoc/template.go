package reportdoc

// pageTemplate is the report page. Print rules: A4 with margins, a chart or
// a summary never split across pages, table headers repeated on every page
// a table runs over, colours printed as shown. Fonts are the system's
// (no web font: the file must not fetch anything).
const pageTemplate = `<!DOCTYPE html>
<html lang="fr">
<head>
<meta charset="utf-8" />
<title>{{.Title}} — {{.Period}}</title>
<style>
@page { size: A4; margin: 16mm 14mm 18mm 14mm; }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { font-family: "DejaVu Sans", "Liberation Sans", Arial, Helvetica, sans-serif; font-size: 10pt; color: #1d2733; margin: 0 auto; max-width: 182mm; line-height: 1.35; }
h1 { font-size: 18pt; margin: 0 0 2mm 0; color: #123a63; }
h2 { font-size: 13pt; margin: 7mm 0 2mm 0; color: #123a63; border-bottom: 0.6mm solid #123a63; padding-bottom: 1mm; break-after: avoid; page-break-after: avoid; }
h3 { font-size: 10.5pt; margin: 4mm 0 1mm 0; break-after: avoid; page-break-after: avoid; }
p.period { font-size: 12pt; margin: 0 0 1mm 0; }
p.meta { color: #5b6673; margin: 0 0 4mm 0; font-size: 9pt; }
p.empty { color: #5b6673; font-style: italic; }
.summary { display: grid; grid-template-columns: repeat(3, 1fr); gap: 3mm; break-inside: avoid; page-break-inside: avoid; }
.fact { border: 0.3mm solid #c5ced8; border-radius: 2mm; padding: 2.5mm 3mm; }
.fact .label { font-size: 8.5pt; color: #5b6673; }
.fact .value { font-size: 15pt; font-weight: bold; color: #123a63; }
.fact .note { font-size: 8pt; color: #5b6673; }
figure { margin: 2mm 0 3mm 0; break-inside: avoid; page-break-inside: avoid; }
figcaption { font-weight: bold; font-size: 9.5pt; margin-bottom: 1mm; }
svg { width: 100%; height: auto; display: block; }
svg text { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; font-size: 10px; fill: #3c4653; }
svg text.value { font-size: 9px; fill: #1d2733; }
svg .axis { stroke: #8a96a3; stroke-width: 1; }
svg .grid { stroke: #e1e6eb; stroke-width: 1; }
svg .ref { stroke: #c0392b; stroke-width: 1.5; stroke-dasharray: 6 3; }
svg text.reflabel { fill: #c0392b; font-weight: bold; }
.s1 { fill: #2e6da4; background: #2e6da4; }
.s2 { fill: #2f9e55; background: #2f9e55; }
.s3 { fill: #c0392b; background: #c0392b; }
.s4 { fill: #8e5bb5; background: #8e5bb5; }
.s5 { fill: #e0a526; background: #e0a526; }
.s6 { fill: #7f8c8d; background: #7f8c8d; }
.s7 { fill: #b5bfc9; background: #b5bfc9; }
.l1 { stroke: #2e6da4; stroke-width: 2.5; fill: none; }
svg circle.l1 { fill: #2e6da4; }
.legend { font-size: 8.5pt; color: #3c4653; }
.legend span.key { display: inline-block; width: 3mm; height: 3mm; margin: 0 1mm 0 3mm; vertical-align: middle; }
table { border-collapse: collapse; width: 100%; margin: 1mm 0 3mm 0; font-size: 9pt; }
thead { display: table-header-group; }
tr { break-inside: avoid; page-break-inside: avoid; }
th { text-align: left; background: #e8eef4; font-weight: bold; padding: 1mm 1.5mm; border-bottom: 0.3mm solid #8a96a3; }
td { padding: 0.8mm 1.5mm; border-bottom: 0.2mm solid #e1e6eb; }
td.n, th.n { text-align: right; white-space: nowrap; }
td.bar { width: 45%; }
td.bar2, th.bar2 { width: 14%; }
.legend span.key.l1 { background: #2e6da4; height: 0.8mm; }
div.bar { height: 3mm; min-width: 0.3mm; }
td.month { white-space: nowrap; }
td.late { color: #c0392b; font-weight: bold; }
.stack { display: flex; height: 6mm; width: 100%; margin: 2mm 0; border: 0.2mm solid #c5ced8; }
.stack div { height: 100%; }
section { break-inside: auto; }
footer { margin-top: 8mm; font-size: 8pt; color: #5b6673; border-top: 0.2mm solid #c5ced8; padding-top: 1.5mm; }
</style>
</head>
<body>
<header>
<h1>{{.Title}}</h1>
<p class="period">Période {{.Period}}</p>
<p class="meta">Zones : {{.Zones}} — établi le {{.Generated}}</p>
</header>

<section>
<h2>Synthèse</h2>
<div class="summary">
{{- range .Summary}}
<div class="fact"><div class="label">{{.Label}}</div><div class="value">{{.Value}}</div>{{with .Note}}<div class="note">{{.}}</div>{{end}}</div>
{{- end}}
</div>
</section>

<section>
<h2>Alertes</h2>
{{template "chart" .AlertsChart}}
{{if .HasAlerts -}}
<h3>Par catégorie</h3>
{{template "bars" .Categories}}
<h3>Par zone</h3>
{{template "bars" .ZoneAlerts}}
{{- else -}}
<p class="empty">Aucune alerte sur la période.</p>
{{- end}}
</section>

<section>
<h2>Portée des alertes</h2>
{{if .HasAlerts -}}
<div class="stack">{{range .ReachBar}}<div class="{{.Class}}" style="width: {{printf "%.2f" .Width}}%" title="{{.Name}} : {{.Count}}"></div>{{end}}</div>
<table>
<thead><tr><th>SMS d'alerte</th><th class="n">nombre</th><th class="n">part des destinataires</th></tr></thead>
<tbody>
{{- range .Reach}}
<tr><td><span class="legend"><span class="key {{.Class}}"></span></span>{{.Name}}</td><td class="n">{{.Count}}</td><td class="n">{{.Share}}</td></tr>
{{- end}}
</tbody>
</table>
{{- else -}}
<p class="empty">Aucune alerte sur la période.</p>
{{- end}}
</section>

<section>
<h2>Délai jusqu'au dernier SMS</h2>
{{if .Alerts -}}
{{template "chart" .DelayChart}}
<table>
<thead><tr><th>n°</th><th>acceptée le</th><th>catégorie</th><th>zones</th><th class="n">destinataires</th><th class="n">remis</th><th class="n">délai</th><th class="n">réponses</th></tr></thead>
<tbody>
{{- range .Alerts}}
<tr><td>{{.ID}}</td><td>{{.Date}}</td><td>{{.Category}}</td><td>{{.Zones}}</td><td class="n">{{.Recipients}}</td><td class="n">{{.Delivered}}</td><td class="n{{if .Late}} late{{end}}">{{.Delay}}</td><td class="n">{{.Replies}}</td></tr>
{{- end}}
</tbody>
</table>
<p class="meta">Délai de l'acceptation de l'alerte au départ de son dernier SMS ; la ligne rouge est la promesse ({{.PromiseText}}).</p>
{{- else -}}
<p class="empty">Aucune alerte sur la période.</p>
{{- end}}
</section>

<section>
<h2>Abonnements</h2>
{{if .HasSubs -}}
{{template "chart" .SubsChart}}
{{template "chart" .ActiveChart}}
{{- else -}}
<p class="empty">Aucune inscription ni aucun STOP sur la période.</p>
{{- end}}
<h3>Par zone</h3>
{{if .Zones2 -}}
<table>
<thead><tr><th>zone</th><th class="n">alertes</th><th class="n">destinataires</th><th class="n">inscriptions</th><th class="n">STOP</th><th class="n">inscrits à la fin</th></tr></thead>
<tbody>
{{- range .Zones2}}
<tr><td>{{.Name}}</td><td class="n">{{.Alerts}}</td><td class="n">{{.Recipients}}</td><td class="n">{{.Joins}}</td><td class="n">{{.Stops}}</td><td class="n">{{.Active}}</td></tr>
{{- end}}
</tbody>
</table>
{{- else -}}
<p class="empty">Aucune zone à montrer.</p>
{{- end}}
<h3>Par métier</h3>
{{if .Trades -}}
<table>
<thead><tr><th>métier</th><th class="n">inscriptions</th><th class="n">STOP</th><th class="n">inscrits à la fin</th></tr></thead>
<tbody>
{{- range .Trades}}
<tr><td>{{.Name}}</td><td class="n">{{.Joins}}</td><td class="n">{{.Stops}}</td><td class="n">{{.Active}}</td></tr>
{{- end}}
</tbody>
</table>
{{- else -}}
<p class="empty">Aucun métier à montrer.</p>
{{- end}}
</section>

<section>
<h2>Réponses des témoins</h2>
{{if .HasReplies -}}
{{template "chart" .RepliesChart}}
{{- else -}}
<p class="empty">Aucune réponse de témoin sur la période.</p>
{{- end}}
</section>

<section>
<h2>Mois par mois</h2>
<table>
<thead><tr><th>mois</th><th class="n">alertes</th><th class="n">destinataires</th><th class="n">remis</th><th class="n">réponses</th><th class="n">inscriptions</th><th class="n">STOP</th><th class="n">inscrits en fin de mois</th></tr></thead>
<tbody>
{{- range .Months}}
<tr><td class="month">{{.Name}}</td><td class="n">{{.Alerts}}</td><td class="n">{{.Recipients}}</td><td class="n">{{.Delivered}}</td><td class="n">{{.Replies}}</td><td class="n">{{.Joins}}</td><td class="n">{{.Stops}}</td><td class="n">{{.Active}}</td></tr>
{{- end}}
</tbody>
</table>
</section>

<section>
<h2>Modems</h2>
{{if .Modems -}}
<table>
<thead><tr><th>modem</th><th class="n">disponibilité</th><th class="bar2"></th><th class="n">parties SMS</th><th class="n">plafond</th><th class="bar2"></th><th>jour le plus chargé</th></tr></thead>
<tbody>
{{- range .Modems}}
<tr><td>{{.Name}}</td><td class="n">{{.Availability}}</td><td class="bar2"><div class="bar s2" style="width: {{printf "%.2f" .AvailWidth}}%"></div></td><td class="n">{{.Parts}}</td><td class="n">{{.Cap}} ({{.CapShare}})</td><td class="bar2"><div class="bar s1" style="width: {{printf "%.2f" .CapWidth}}%"></div></td><td>{{.Busiest}}</td></tr>
{{- end}}
</tbody>
</table>
<p class="meta">Disponibilité : part du temps observé où le modem était prêt à envoyer. Parties SMS : envoyées sur la période, face au plafond quotidien multiplié par le nombre de jours.</p>
{{- else -}}
<p class="empty">Aucun modem observé sur la période.</p>
{{- end}}
</section>

<footer>Vigie — rapport établi à partir des compteurs de la passerelle : aucun numéro de téléphone n'y figure, seulement des nombres, des zones et des métiers.</footer>
</body>
</html>
{{define "bars"}}{{if .}}<table>
<tbody>
{{- range .}}
<tr><td>{{.Name}}</td><td class="n">{{.Value}}</td><td class="bar"><div class="bar s1" style="width: {{printf "%.2f" .Width}}%"></div></td></tr>
{{- end}}
</tbody>
</table>{{else}}<p class="empty">Rien à montrer.</p>{{end}}{{end}}
{{define "chart"}}<figure>
<figcaption>{{.Title}}</figcaption>
<svg viewBox="0 0 {{.W}} {{.H}}" role="img" aria-label="{{.Title}}">
{{- range .Ticks}}
<line class="grid" x1="{{$.PlotX0}}" x2="{{$.PlotX1}}" y1="{{printf "%.1f" .Y}}" y2="{{printf "%.1f" .Y}}" />
<text x="{{printf "%.1f" (sub $.PlotX0 6)}}" y="{{printf "%.1f" (add .Y 3.5)}}" text-anchor="end">{{.Text}}</text>
{{- end}}
<line class="axis" x1="{{$.PlotX0}}" x2="{{$.PlotX1}}" y1="{{$.PlotY1}}" y2="{{$.PlotY1}}" />
{{- range $b := .Bars}}
<rect class="{{.Class}}" x="{{printf "%.1f" .X}}" y="{{printf "%.1f" .Y}}" width="{{printf "%.1f" .W}}" height="{{printf "%.1f" .H}}"><title>{{.Title}}</title></rect>
{{- with .Value}}
<text class="value" x="{{printf "%.1f" (add $b.X (half $b.W))}}" y="{{printf "%.1f" (sub $b.Y 3)}}" text-anchor="middle">{{.}}</text>
{{- end}}
{{- end}}
{{- with .Line}}
<polyline class="{{.Class}}" points="{{.Points}}" />
{{- range .Dots}}
<circle class="l1" cx="{{printf "%.1f" .X}}" cy="{{printf "%.1f" .Y}}" r="2.5"><title>{{.Title}}</title></circle>
{{- end}}
{{- end}}
{{- with .Ref}}
<line class="ref" x1="{{$.PlotX0}}" x2="{{$.PlotX1}}" y1="{{printf "%.1f" .Y}}" y2="{{printf "%.1f" .Y}}" />
<text class="reflabel" x="{{$.PlotX1}}" y="{{printf "%.1f" (sub .Y 4)}}" text-anchor="end">{{.Label}}</text>
{{- end}}
{{- range .Labels}}
<text x="{{printf "%.1f" .X}}" y="186" text-anchor="middle">{{.Text}}</text>
{{- end}}
{{- range .Labels}}{{if .Text2}}
<text x="{{printf "%.1f" .X}}" y="200" text-anchor="middle">{{.Text2}}</text>
{{- end}}{{end}}
</svg>
{{- if .Legend}}
<div class="legend">{{range .Legend}}<span class="key {{.Class}}"></span>{{.Name}} {{end}}</div>
{{- end}}
</figure>{{end}}`
