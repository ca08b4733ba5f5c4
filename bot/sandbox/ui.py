# ruff: noqa: E501 - this module is mostly HTML and CSS
"""The sandbox's web pages: templates, style, the refresh script and the Markdown renderer.

Kept in Python strings so that the sandbox works from any install of the package. Comments are
rendered like GitHub renders them, minus raw HTML (markdown-it-py with ``html`` off), with bare
URLs turned into links; links leaving the sandbox open in a new tab, so the PR page stays open
and turns green by itself while one signs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import jinja2
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from markupsafe import Markup

__all__ = ["CSS", "JS", "Renderer", "templates"]

_URL = re.compile(r"https?://[^\s<>()\[\]`'\"]+")
_TRAILING = ".,;:!?*_"
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)


def _autolink(state: StateCore) -> None:
    """Bare http(s) URLs in text become links (GitHub's autolink extension, simply)."""
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        out: list[Token] = []
        depth = 0
        for tok in block.children:
            if tok.type == "link_open":
                depth += 1
            elif tok.type == "link_close":
                depth -= 1
            if tok.type != "text" or depth > 0 or "http" not in tok.content:
                out.append(tok)
                continue
            text, pos = tok.content, 0
            for m in _URL.finditer(text):
                url = m.group(0).rstrip(_TRAILING)
                if m.start() > pos:
                    out.append(_text(text[pos : m.start()]))
                link = Token("link_open", "a", 1)
                link.attrSet("href", url)
                out += [link, _text(url), Token("link_close", "a", -1)]
                pos = m.start() + len(url)
            if pos < len(text):
                out.append(_text(text[pos:]))
        block.children = out


def _text(content: str) -> Token:
    tok = Token("text", "", 0)
    tok.content = content
    return tok


class Renderer:
    """Markdown → safe HTML, as the sandbox shows comments."""

    def __init__(self, own_origin: str) -> None:
        self.own_origin = own_origin
        self.md = MarkdownIt("commonmark", {"html": False})
        self.md.core.ruler.push("sandbox_autolink", _autolink)

        def link_open(
            renderer: RendererHTML,
            tokens: Sequence[Token],
            idx: int,
            options: OptionsDict,
            env: EnvType,
        ) -> str:
            tok = tokens[idx]
            href = str(tok.attrGet("href") or "")
            if href.startswith(("http://", "https://")) and not href.startswith(own_origin):
                tok.attrSet("target", "_blank")
                tok.attrSet("rel", "noopener noreferrer")
            return renderer.renderToken(tokens, idx, options, env)

        self.md.add_render_rule("link_open", link_open)

    def __call__(self, text: str) -> Markup:
        visible = _HTML_COMMENT.sub("", text)  # hidden on GitHub too (the bot's marker)
        return Markup(self.md.render(visible))  # noqa: S704 - rendered with html disabled


def templates() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.DictLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )


BASE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="sandbox-version" content="{{ version }}">
  <title>{% block title %}cla-bot sandbox{% endblock %}</title>
  <link rel="stylesheet" href="/-/sandbox.css">
  <script src="/-/sandbox.js" defer></script>
</head>
<body>
  <header class="top">
    <a class="brand" href="/">cla-bot sandbox</a>
    <span class="where">a pretend GitHub on this machine ·
      the bot: <a href="{{ bot_url }}/" target="_blank" rel="noopener">{{ bot_url }}</a> ·
      <a href="/outbox">outbox</a></span>
  </header>
  <main>{% block main %}{% endblock %}</main>
</body>
</html>
"""

STATE = """{% macro status_badge(st) -%}
{%- if st -%}<span class="badge {{ st.state }}" title="{{ st.description or '' }}">{{ st.context }}: {{ st.state }}</span>
{%- else -%}<span class="badge none">no status yet</span>{%- endif -%}
{%- endmacro %}
{% macro label_chips(names) -%}
{%- for name in names %}<span class="label {{ 'yes' if name.endswith('/yes') else ('no' if name.endswith('/no') else '') }}">{{ name }}</span>{% endfor -%}
{%- endmacro %}"""

INDEX = """{% extends "base.html" %}
{% from "state.html" import status_badge, label_chips %}
{% block main %}
<section class="intro">
  <h1>Try the CLA bot</h1>
  <p>This is a sandbox: a small pretend GitHub with made-up people, running on this machine
     next to the bot. Nothing here leaves your computer; the bot keeps its records in
     <code>var/demo.db</code>.</p>
  <ol>
    <li><strong>Open a pull request</strong> below as one of the made-up contributors.</li>
    <li>Within a second or two the bot sets the <code>cla</code> status and a label on it,
        and comments when someone must sign. Open the PR to see them.</li>
    <li><strong>Follow the signing link</strong> in the bot's comment, sign in to the sandbox as
        the contributor, and sign the agreement.</li>
    <li>Come back to the PR: it <strong>turns green by itself</strong>. Try a
        <code>/cla check</code> comment, or push another commit.</li>
  </ol>
</section>

<section class="card">
  <h2>Open a pull request</h2>
  <form method="post" action="/-/pulls" id="open-pr">
    <div class="field">
      <label for="repo">Repository</label>
      <select id="repo" name="repo">{% for r in repos %}<option value="{{ r.full_name }}">{{ r.full_name }}</option>{% endfor %}</select>
    </div>
    <fieldset class="field">
      <legend>Contributor</legend>
      {% for s in scenarios %}
      <label class="choice"><input type="radio" name="scenario" value="{{ s.key }}"{% if loop.first %} checked{% endif %}>
        <span><strong>{{ s.label }}</strong><br><small>{{ s.explain }}</small></span></label>
      {% endfor %}
    </fieldset>
    <div class="field">
      <label for="title">Title</label>
      <input id="title" name="title" type="text" value="Improve the documentation" maxlength="200" required>
    </div>
    <button class="button primary" type="submit">Open pull request</button>
  </form>
</section>

{% for r in repos %}
<section class="card" id="{{ r.full_name | replace('/', '-') }}">
  <h2>{{ r.full_name }}</h2>
  {% set prs = pulls[r.full_name] %}
  {% if prs %}
  <table class="prs">
    <tr><th>Pull request</th><th>Author</th><th>Status</th><th>Labels</th></tr>
    {% for p in prs %}
    <tr>
      <td><a href="/{{ r.full_name }}/pull/{{ p.pr.number }}">#{{ p.pr.number }} {{ p.pr.title }}</a></td>
      <td>@{{ p.pr.user.login }}</td>
      <td>{{ status_badge(p.status) }}</td>
      <td>{{ label_chips(p.pr.labels) }}</td>
    </tr>
    {% endfor %}
  </table>
  {% else %}
  <p class="muted">No pull requests yet.</p>
  {% endif %}
</section>
{% endfor %}

<section class="card">
  <h2>Webhooks sent to the bot</h2>
  {% if deliveries %}
  <table>
    <tr><th>Event</th><th>For</th><th>Bot's answer</th></tr>
    {% for d in deliveries %}
    <tr><td><code>{{ d.event }}{% if d.action %}.{{ d.action }}{% endif %}</code>{% if d.redelivery %} <small>(redelivered)</small>{% endif %}</td>
        <td>{{ d.what }}</td>
        <td class="{{ 'ok' if d.ok else 'bad' }}">{% if d.status_code %}HTTP {{ d.status_code }}{% endif %} {{ d.answer }}</td></tr>
    {% endfor %}
  </table>
  {% else %}
  <p class="muted">None yet: opening a pull request sends one.</p>
  {% endif %}
</section>

<p class="muted">Done trying? Stop this with Ctrl+C. To connect a real GitHub or Gitee, run
  <code>make run SANDBOX=no</code> and open <code>/setup</code> on the bot (README: Setting up).</p>
{% endblock %}
"""

PULL = """{% extends "base.html" %}
{% from "state.html" import status_badge, label_chips %}
{% block title %}#{{ pr.number }} {{ pr.title }} · {{ pr.repo.full_name }}{% endblock %}
{% block main %}
<p class="crumbs"><a href="/">sandbox</a> / <a href="/#{{ pr.repo.full_name | replace('/', '-') }}">{{ pr.repo.full_name }}</a></p>
<h1>{{ pr.title }} <span class="muted">#{{ pr.number }}</span></h1>
<p class="muted"><span class="state-open">Open</span> @{{ pr.user.login }} wants to merge
  {{ pr.commits | length }} commit{{ '' if pr.commits | length == 1 else 's' }} into
  <code>{{ pr.base_ref }}</code> from <code>{{ pr.head_ref }}</code></p>

<section class="card checks" id="checks">
  <h2>Checks</h2>
  {% for st in statuses %}
  <p class="check {{ st.state }}" id="status-{{ st.context | replace('/', '-') }}">
    <span class="badge {{ st.state }}">{{ st.context }}: {{ st.state }}</span>
    {{ st.description or '' }}
    {% if st.target_url %}<a href="{{ st.target_url }}" target="_blank" rel="noopener">Details</a>{% endif %}
  </p>
  {% else %}
  <p class="muted" id="status-none">No status yet: the bot sets one within a second or two.</p>
  {% endfor %}
  <p>Labels: <span id="labels">{{ label_chips(pr.labels) }}</span>{% if not pr.labels %}<span class="muted">none</span>{% endif %}</p>
</section>

<section class="card">
  <h2>Commits</h2>
  <table>
    {% for c in commits %}
    <tr><td><code>{{ c.commit.sha[:7] }}</code></td>
        <td>{{ c.commit.title }}<br><small>{{ c.commit.author_name }} &lt;{{ c.commit.author_email }}&gt;
          {% if c.account %}· linked to @{{ c.account.login }}{% else %}· <strong>not linked to any account</strong>{% endif %}</small></td></tr>
    {% endfor %}
  </table>
  <form method="post" action="/{{ pr.repo.full_name }}/pull/{{ pr.number }}/commits" class="inline">
    <label for="push-scenario">Push another commit by</label>
    <select id="push-scenario" name="scenario">{% for s in scenarios %}<option value="{{ s.key }}"{% if s.author == pr.user.login %} selected{% endif %}>{{ s.label }}</option>{% endfor %}</select>
    <button class="button" type="submit">Push</button>
  </form>
</section>

<section class="conversation">
  <h2>Conversation</h2>
  {% for c in comments %}
  <article class="comment{% if c.comment.user.type == 'Bot' %} bot{% endif %}" id="comment-{{ c.comment.id }}">
    <header><strong>{{ c.comment.user.login }}</strong>{% if c.comment.user.type == 'Bot' %} <span class="tag">bot</span>{% endif %}
      <small class="muted">{{ c.when }}{% if c.edited %} · edited{% endif %}</small></header>
    <div class="body">{{ c.html }}</div>
  </article>
  {% else %}
  <p class="muted">No comments yet.</p>
  {% endfor %}
  <form method="post" action="/{{ pr.repo.full_name }}/pull/{{ pr.number }}/comments" class="card" id="comment-form">
    <div class="field">
      <label for="as">Comment as</label>
      <select id="as" name="user">{% for u in people %}<option value="{{ u.login }}"{% if u.login == pr.user.login %} selected{% endif %}>@{{ u.login }} — {{ u.about }}</option>{% endfor %}</select>
    </div>
    <div class="field">
      <label for="body">Comment</label>
      <textarea id="body" name="body" rows="3" required>/cla check</textarea>
      <small class="muted">The bot understands <code>/cla check</code>, <code>/cla status @login</code>
        (maintainers, e.g. @mona), <code>/cla export-my-data</code> and <code>/cla delete-my-data</code>.</small>
    </div>
    <button class="button primary" type="submit">Comment</button>
  </form>
</section>
{% endblock %}
"""

AUTHORIZE = """{% extends "base.html" %}
{% block title %}Sign in to the sandbox{% endblock %}
{% block main %}
<section class="card narrow">
  <h1>Sign in to the sandbox</h1>
  <p><strong>{{ app_name }}</strong> (the CLA bot at <code>{{ redirect_origin }}</code>) wants to know
     who you are: your login, account id and verified email addresses.</p>
  <p class="muted">On GitHub you would type your password here. In the sandbox, pick who you are.</p>
  <form method="post" action="/login/oauth/authorize" id="authorize">
    {% for name, value in params %}<input type="hidden" name="{{ name }}" value="{{ value }}">{% endfor %}
    <fieldset class="field">
      <legend>Sign in as</legend>
      {% for u in people %}
      <label class="choice"><input type="radio" name="login" value="{{ u.login }}"{% if u.login == current %} checked{% endif %} required>
        <span><strong>@{{ u.login }}</strong> ({{ u.name }}) — {{ u.about }}<br><small>verified: {{ u.emails | join(', ') }}</small></span></label>
      {% endfor %}
    </fieldset>
    <button class="button primary" type="submit">Authorize</button>
    <a class="button" href="{{ cancel_url }}">Cancel</a>
  </form>
</section>
{% endblock %}
"""

EMAILS = """{% extends "base.html" %}
{% block title %}Emails · sandbox settings{% endblock %}
{% block main %}
<section class="card narrow">
  <h1>Emails</h1>
  {% if notice %}<p class="notice">{{ notice }}</p>{% endif %}
  <form method="get" action="/settings/emails" class="inline">
    <label for="who">Account</label>
    <select id="who" name="login">{% for u in people %}<option value="{{ u.login }}"{% if user and u.login == user.login %} selected{% endif %}>@{{ u.login }}</option>{% endfor %}</select>
    <button class="button" type="submit">Show</button>
  </form>
  {% if user %}
  <p>Verified email addresses of <strong>@{{ user.login }}</strong>; commits made with any of
     them are linked to this account.</p>
  <ul id="emails">{% for e in user.emails %}<li><code>{{ e }}</code>{% if loop.first %} <small>(primary)</small>{% endif %}</li>{% endfor %}</ul>
  <form method="post" action="/settings/emails">
    <input type="hidden" name="login" value="{{ user.login }}">
    <div class="field">
      <label for="email">Add an email address</label>
      <input id="email" name="email" type="text" value="{{ suggestion }}" required>
      <small class="muted">The sandbox verifies it at once (GitHub would send a link first).</small>
    </div>
    <button class="button primary" type="submit">Add</button>
  </form>
  <p class="muted">Then comment <code>/cla check</code> on the pull request to run the check again.</p>
  {% endif %}
</section>
{% endblock %}
"""

OUTBOX = """{% extends "base.html" %}
{% block title %}Outbox · sandbox mail{% endblock %}
{% block main %}
<section class="card">
  <h1>Outbox</h1>
  <p class="muted">The mail the bot sent, kept by the sandbox's mail server on this machine
     (nothing leaves it): verification codes and signing receipts, newest first.</p>
  {% for m in messages %}
  <article class="comment" id="mail-{{ m.n }}">
    <header><strong>{{ m.subject }}</strong> <small>to <code>{{ m.to }}</code> · {{ m.date }}</small></header>
    <div class="body"><pre style="white-space:pre-wrap">{{ m.text }}</pre>
    {% for a in m.attachments %}<p>Attached: <a href="/outbox/{{ m.n }}/{{ loop.index0 }}" download="{{ a }}">{{ a }}</a></p>{% endfor %}
    </div>
  </article>
  {% else %}
  <p id="no-mail">No mail yet. Sign a CLA, or prove an address on the bot's <a href="{{ bot_url }}/me">/me</a> page.</p>
  {% endfor %}
</section>
{% endblock %}
"""

ERROR = """{% extends "base.html" %}
{% block title %}Sandbox: {{ status }}{% endblock %}
{% block main %}
<section class="card narrow">
  <h1>{{ title }}</h1>
  <p>{{ message }}</p>
  <p><a class="button" href="/">Back to the sandbox</a></p>
</section>
{% endblock %}
"""

TEMPLATES = {
    "base.html": BASE,
    "state.html": STATE,
    "index.html": INDEX,
    "pull.html": PULL,
    "authorize.html": AUTHORIZE,
    "emails.html": EMAILS,
    "outbox.html": OUTBOX,
    "error.html": ERROR,
}

CSS = """
:root { --fg:#1f2328; --muted:#59636e; --line:#d1d9e0; --accent:#1f6feb; --ok:#1a7f37; --bad:#cf222e; --warn:#9a6700; }
* { box-sizing: border-box; }
body { margin:0; font:15px/1.5 system-ui,-apple-system,"Segoe UI","PingFang SC",sans-serif; color:var(--fg); background:#f6f8fa; }
a { color:var(--accent); }
.top { display:flex; flex-wrap:wrap; gap:.5rem 1rem; justify-content:space-between; align-items:center; padding:.6rem 1rem; background:#24292f; color:#fff; }
.top a { color:#fff; } .brand { font-weight:700; text-decoration:none; } .where { font-size:.85rem; color:#d0d7de; }
main { max-width:56rem; margin:1.2rem auto; padding:0 1rem 3rem; }
h1 { font-size:1.5rem; margin:.3rem 0 .6rem; } h2 { font-size:1.15rem; margin:.2rem 0 .6rem; }
.card, .intro { background:#fff; border:1px solid var(--line); border-radius:8px; padding:.8rem 1rem; margin:0 0 1rem; }
.narrow { max-width:36rem; margin:1rem auto; }
.muted, small { color:var(--muted); }
.field { margin:0 0 .8rem; border:0; padding:0; }
.field > label, legend { display:block; font-weight:600; margin-bottom:.25rem; }
.field > label.choice, .choice { display:flex; gap:.5rem; align-items:flex-start; padding:.35rem .2rem; margin:0; font-weight:normal; }
.choice input { margin-top:.3rem; }
input[type=text], select, textarea { width:100%; padding:.45rem; font:inherit; border:1px solid var(--line); border-radius:6px; background:#fff; }
form.inline { display:flex; flex-wrap:wrap; gap:.5rem; align-items:center; margin-top:.6rem; }
form.inline select { width:auto; flex:1 1 0; min-width:0; }
.button { display:inline-block; padding:.45rem .9rem; border:1px solid var(--line); border-radius:6px; background:#f6f8fa; color:var(--fg); font:inherit; cursor:pointer; text-decoration:none; }
.button.primary { background:var(--ok); border-color:var(--ok); color:#fff; }
table { width:100%; border-collapse:collapse; }
th, td { text-align:left; padding:.35rem .4rem; border-bottom:1px solid var(--line); vertical-align:top; }
td.ok { color:var(--ok); } td.bad { color:var(--bad); }
.badge { display:inline-block; padding:.05rem .5rem; border-radius:1rem; font-size:.85rem; font-weight:600; border:1px solid var(--line); white-space:nowrap; }
.badge.success { background:#dafbe1; color:var(--ok); border-color:#4ac26b; }
.badge.failure, .badge.error { background:#ffebe9; color:var(--bad); border-color:#ff8182; }
.badge.pending { background:#fff8c5; color:var(--warn); border-color:#d4a72c; }
.badge.none { color:var(--muted); }
.label { display:inline-block; margin:0 .25rem .1rem 0; padding:0 .5rem; border-radius:1rem; font-size:.8rem; font-weight:600; background:#eaeef2; }
.label.yes { background:#1a7f37; color:#fff; } .label.no { background:#cf222e; color:#fff; }
.check { margin:.2rem 0 .6rem; }
.comment { background:#fff; border:1px solid var(--line); border-radius:8px; margin:0 0 .8rem; }
.comment header { padding:.4rem .8rem; background:#f6f8fa; border-bottom:1px solid var(--line); border-radius:8px 8px 0 0; }
.comment.bot header { background:#ddf4ff; }
.comment .body { padding:.2rem .8rem; overflow-wrap:anywhere; }
.tag { font-size:.75rem; border:1px solid var(--line); border-radius:1rem; padding:0 .4rem; }
.crumbs { margin:0; } .state-open { background:var(--ok); color:#fff; border-radius:1rem; padding:.05rem .6rem; }
.notice { border:1px solid var(--ok); color:var(--ok); border-radius:6px; padding:.4rem .6rem; }
code { font-size:.9em; }
"""

JS = """// Reload the page when the sandbox changes (the bot wrote a status, a label or a comment),
// unless the visitor is typing in a form.
(function () {
  var meta = document.querySelector('meta[name="sandbox-version"]');
  if (!meta || !window.fetch) { return; }
  var seen = meta.getAttribute('content');
  var typing = false;
  document.addEventListener('input', function () { typing = true; });
  setInterval(function () {
    if (typing || document.hidden) { return; }
    fetch('/-/state.json', { cache: 'no-store' })
      .then(function (r) { return r.json(); })
      .then(function (s) { if (String(s.version) !== seen) { window.location.reload(); } })
      .catch(function () {});
  }, 1000);
})();
"""
