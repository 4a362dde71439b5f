/// The dashboard's Mustache templates. Kept in the binary (no template folder to install);
/// plain HTML 4-era markup and CSS that an old office browser renders.
enum Templates {
    static let all: [(String, String)] = [("head", head), ("overview", overview), ("site", site), ("report", report)]

    static let report = """
        {{> head}}
        <body><h1>{{title}}</h1><p>From {{from}} to {{to}}. Minutes are summed per calendar month (UTC).</p>
        <table><tr><th>site</th><th>month</th><th>UPS outages</th><th>minutes on battery</th><th>port down minutes</th><th>ports down</th>
        <th>missed backups</th><th>backup problem minutes</th><th>max ambient &deg;C</th><th>minutes silent</th></tr>
        {{#rows}}<tr><td>{{site}}</td><td>{{month}}</td><td>{{outages}}</td><td>{{onBattery}}</td><td>{{portDown}}</td><td>{{ports}}</td>
        <td>{{missed}}</td><td>{{backupProblem}}</td><td>{{maxTemperature}}</td><td>{{silent}}</td></tr>
        {{/rows}}</table></body></html>
        """

    static let head = """
        <!DOCTYPE html>
        <html><head><meta charset="utf-8"><meta http-equiv="refresh" content="60"><title>{{title}}</title>
        <style>
        body{font-family:Arial,sans-serif;margin:12px;color:#222}a{color:#1f6fb2}
        table{border-collapse:collapse}td,th{padding:3px 8px;border:1px solid #ccc;text-align:left;vertical-align:top}
        .badge{padding:1px 6px;border-radius:3px;font-weight:bold}
        .ok .badge,.badge.ok{background:#8c8}.warn .badge,.badge.warn{background:#fd6}
        .crit .badge,.badge.crit,.silent .badge,.badge.silent{background:#f66}
        .unknown .badge,.badge.unknown,.never .badge,.badge.never{background:#ccc}
        .device{display:inline-block;vertical-align:top;margin:0 12px 12px 0;border:1px solid #ddd;padding:6px}
        .ports{line-height:0;margin:4px 0;max-width:420px}
        .port{display:inline-block;width:12px;height:12px;margin:1px;border:1px solid #666}
        .port.up{background:#3a3}.port.down{background:#d33}.port.off{background:#bbb}
        figure{display:inline-block;margin:0 12px 12px 0;vertical-align:top}figcaption{font-weight:bold}.legend{font-size:12px;max-width:640px}
        nav a{margin-right:10px}nav a.current{font-weight:bold;text-decoration:none;color:#222}
        </style></head>
        """

    static let overview = """
        {{> head}}
        <body><h1>Closets</h1>
        <p>{{count}} sites{{#summary}}: {{summary}}{{/summary}}. This page refreshes every minute.</p>
        <table><tr><th>site</th><th>health</th><th>last report</th><th>top problem</th></tr>
        {{#sites}}<tr class="{{level}}"><td><a href="{{url}}">{{name}}</a></td><td><span class="badge">{{levelText}}</span></td><td>{{age}}</td><td>{{problem}}</td></tr>
        {{/sites}}</table>
        </body></html>
        """

    static let site = """
        {{> head}}
        <body><p><a href="/">all sites</a></p>
        <h1>{{name}} <span class="badge {{level}}">{{levelText}}</span></h1>
        <p>Last report {{age}} (state of {{stateTime}}).{{#silent}} <b>The site has gone silent: the state below is its last known one.</b>{{/silent}}
        {{#problem}}<br>Top problem: {{problem}}{{/problem}}</p>
        {{#sections}}<h2>{{title}}</h2>
        {{#devices}}<div class="device {{level}}"><b>{{name}}</b> <span class="badge">{{levelText}}</span> <small>{{kind}}, {{driver}}</small>
        {{#hasPorts}}<div class="ports">{{#ports}}<span class="port {{state}}" title="{{title}}"></span>{{/ports}}</div><small>{{portSummary}}</small>{{/hasPorts}}
        <table>{{#readings}}<tr><td>{{variable}}</td><td>{{value}}</td></tr>{{/readings}}</table></div>
        {{/devices}}{{/sections}}
        <h2>History</h2>
        <nav>{{#ranges}}<a href="{{href}}"{{#current}} class="current"{{/current}}>{{label}}</a>{{/ranges}}</nav>
        {{#charts}}{{{svg}}}{{/charts}}
        <h2>Events</h2>
        {{^hasEvents}}<p>No events.</p>{{/hasEvents}}
        {{#hasEvents}}<table><tr><th>time</th><th>level</th><th>device</th><th>what</th></tr>
        {{#events}}<tr class="{{level}}"><td>{{time}}</td><td><span class="badge">{{levelText}}</span></td><td>{{device}}</td><td>{{variable}} {{reason}}</td></tr>
        {{/events}}</table>{{/hasEvents}}
        </body></html>
        """
}
