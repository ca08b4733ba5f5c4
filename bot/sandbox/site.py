"""The sandbox's own pages, where the visitor plays the people of the demo: the home page
(open a pull request, the latest webhooks), a pull request (statuses, labels, commits,
comments; comment or push as someone), Settings → Emails, and the outbox of the mail the bot
sent. Each change the visitor makes is delivered to the bot as GitHub's webhook."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from bot.sandbox import ui
from bot.sandbox.fakeforge.github import FakeDelivery, FakeGitHub, FakePR
from bot.sandbox.outbox import Outbox, Received
from bot.sandbox.pages import Pages
from bot.sandbox.world import SCENARIOS, Scenario, World

__all__ = ["Site"]

MAX_DELIVERIES_SHOWN = 12
NO_PULL = ("No such pull request", "Open one on the sandbox's page.")

Deliver = Callable[..., Awaitable[FakeDelivery]]


class Site:
    def __init__(
        self,
        fake: FakeGitHub,
        world: World,
        pages: Pages,
        *,
        deliver: Deliver,
        what: Callable[[FakeDelivery], str],
    ) -> None:
        self.fake = fake
        self.world = world
        self.pages = pages
        self.deliver = deliver
        self.what = what
        self.outbox: Outbox | None = None  # the demo's mail server
        self.renderer: ui.Renderer | None = None  # set once the sandbox's address is known

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_get("/", self.index)
        router.add_get("/-/state.json", self.state)
        router.add_get("/-/sandbox.css", self.css)
        router.add_get("/-/sandbox.js", self.js)
        router.add_post("/-/pulls", self.open_pull)
        router.add_get("/outbox", self.outbox_page)
        router.add_get("/outbox/{n:\\d+}/{part:\\d+}", self.outbox_attachment)
        router.add_get("/settings/emails", self.emails_page)
        router.add_post("/settings/emails", self.add_email)
        router.add_get("/{owner}/{repo}/pull/{number:\\d+}", self.pull_page)
        router.add_post("/{owner}/{repo}/pull/{number:\\d+}/comments", self.comment)
        router.add_post("/{owner}/{repo}/pull/{number:\\d+}/commits", self.push)
        router.add_get("/{owner}/{repo}/commit/{sha}", self.commit_page)
        router.add_get("/{owner}/{repo}", self.repo_page)

    # -- home ----------------------------------------------------------------------------------

    async def index(self, request: web.Request) -> web.Response:
        repos = self.world.repos
        pulls = {
            r.full_name: [
                {"pr": p, "status": _first(self.world.combined(p))} for p in self.world.pulls_of(r)
            ]
            for r in repos
        }
        shown = list(reversed(self.world.deliveries))[:MAX_DELIVERIES_SHOWN]
        return self.pages.render(
            "index.html",
            repos=repos,
            pulls=pulls,
            scenarios=SCENARIOS,
            deliveries=[self._delivery(d) for d in shown],
        )

    def _delivery(self, d: FakeDelivery) -> dict[str, Any]:
        return {
            "event": d.event,
            "action": d.action,
            "redelivery": d.redelivery,
            "what": self.what(d),
            "ok": d.ok,
            "status_code": d.status_code,
            "answer": d.answer,
        }

    async def state(self, request: web.Request) -> web.Response:
        return web.json_response(
            {"version": self.world.version}, headers={"Cache-Control": "no-store"}
        )

    async def css(self, request: web.Request) -> web.Response:
        return web.Response(text=ui.CSS, content_type="text/css")

    async def js(self, request: web.Request) -> web.Response:
        return web.Response(text=ui.JS, content_type="text/javascript")

    # -- pull requests -------------------------------------------------------------------------

    async def open_pull(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        repo = self.world.repo(str(form.get("repo", "")))
        scenario = _scenario(str(form.get("scenario", "")))
        title = str(form.get("title", "")).strip()[:200] or "A change"
        if repo is None or scenario is None:
            return self.pages.error(
                400, "Cannot open that", "Choose a repository and a contributor."
            )
        pr = self.world.open_pull(repo, scenario, title)
        await self.deliver(
            "pull_request",
            self.fake.pull_request_event(pr, action="opened"),
            what=f"{repo.full_name}#{pr.number}",
        )
        raise web.HTTPSeeOther(f"/{repo.full_name}/pull/{pr.number}")

    def _pull(self, request: web.Request) -> FakePR | None:
        info = request.match_info
        return self.world.pull(f"{info['owner']}/{info['repo']}", int(info["number"]))

    async def pull_page(self, request: web.Request) -> web.Response:
        pr = self._pull(request)
        if pr is None:
            return self.pages.error(404, *NO_PULL)
        md = self.renderer or ui.Renderer("")
        comments = [
            {
                "comment": c,
                "html": md(c.body),
                "when": c.created_at.replace("T", " ").replace("Z", " UTC"),
                "edited": c.updated_at != c.created_at,
            }
            for c in self.world.comments_of(pr)
        ]
        commits = [{"commit": c, "account": self.world.linked(c.author_email)} for c in pr.commits]
        return self.pages.render(
            "pull.html",
            pr=pr,
            statuses=self.world.combined(pr),
            commits=commits,
            comments=comments,
            people=self.world.people,
            scenarios=SCENARIOS,
        )

    async def comment(self, request: web.Request) -> web.StreamResponse:
        pr = self._pull(request)
        if pr is None:
            return self.pages.error(404, *NO_PULL)
        form = await request.post()
        person = self.world.find_user(str(form.get("user", "")))
        body = str(form.get("body", "")).strip()
        if person is None or person not in self.world.people or not body:
            return self.pages.error(
                400, "Cannot comment", "Choose who you are and write something."
            )
        c = self.world.add_comment(pr, person, body[:65536])
        await self.deliver(
            "issue_comment",
            self.fake.issue_comment_event(c),
            what=f"{pr.repo.full_name}#{pr.number}",
        )
        raise web.HTTPSeeOther(f"/{pr.repo.full_name}/pull/{pr.number}#comment-{c.id}")

    async def push(self, request: web.Request) -> web.StreamResponse:
        pr = self._pull(request)
        if pr is None:
            return self.pages.error(404, *NO_PULL)
        form = await request.post()
        scenario = _scenario(str(form.get("scenario", "")))
        if scenario is None:
            return self.pages.error(400, "Cannot push", "Choose a contributor.")
        self.world.push(pr, scenario)
        await self.deliver(
            "pull_request",
            self.fake.pull_request_event(pr, action="synchronize"),
            what=f"{pr.repo.full_name}#{pr.number}",
        )
        raise web.HTTPSeeOther(f"/{pr.repo.full_name}/pull/{pr.number}")

    async def commit_page(self, request: web.Request) -> web.StreamResponse:
        info = request.match_info
        pr = self.world.known_commit(f"{info['owner']}/{info['repo']}", info["sha"])
        if pr is None:
            return self.pages.error(
                404, "No such commit", "It is not part of any pull request here."
            )
        raise web.HTTPFound(f"/{pr.repo.full_name}/pull/{pr.number}")

    async def repo_page(self, request: web.Request) -> web.StreamResponse:
        info = request.match_info
        repo = self.world.repo(f"{info['owner']}/{info['repo']}")
        if repo is None:
            return self.pages.error(404, "Not found", "The sandbox has no such page.")
        raise web.HTTPFound("/#" + repo.full_name.replace("/", "-"))

    # -- settings: emails ----------------------------------------------------------------------

    async def emails_page(self, request: web.Request) -> web.Response:
        login = request.query.get("login") or self.pages.signed_in(request) or ""
        person = self.world.find_user(login)
        if person is not None and person not in self.world.people:
            person = None
        suggestion = "grace@old-laptop.example" if person and person.login == "grace" else ""
        return self.pages.render(
            "emails.html",
            user=person,
            people=self.world.people,
            suggestion=suggestion,
            notice=request.query.get("added", "") and f"Added {request.query['added']}.",
        )

    async def add_email(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        person = self.world.find_user(str(form.get("login", "")))
        email = str(form.get("email", "")).strip()
        if person is None or person not in self.world.people:
            return self.pages.error(400, "Who are you?", "Choose one of the made-up users.")
        local, at, domain = email.partition("@")
        if not local or not at or "." not in domain or len(email) > 254 or " " in email:
            return self.pages.error(400, "Not an email address", f"{email!r} is not one.")
        owner = self.world.linked(email)
        if owner is not None and owner is not person.account:
            return self.pages.error(
                400, "Already taken", f"{email} belongs to @{owner.login} in the sandbox."
            )
        self.world.add_email(person, email)
        response = web.HTTPSeeOther(
            "/settings/emails?" + urlencode({"login": person.login, "added": email})
        )
        self.pages.remember(response, person.login)
        raise response

    # -- the outbox ----------------------------------------------------------------------------

    def _mail(self) -> list[Received]:
        return list(self.outbox.messages) if self.outbox is not None else []

    async def outbox_page(self, request: web.Request) -> web.Response:
        shown = []
        for n, got in reversed(list(enumerate(self._mail()))):
            body = got.message.get_body(("plain",))
            shown.append(
                {
                    "n": n,
                    "to": ", ".join(got.recipients),
                    "subject": str(got.message["Subject"] or ""),
                    "date": str(got.message["Date"] or ""),
                    "text": body.get_content() if body is not None else "",
                    "attachments": [
                        a.get_filename() or "attachment" for a in got.message.iter_attachments()
                    ],
                }
            )
        return self.pages.render("outbox.html", messages=shown)

    async def outbox_attachment(self, request: web.Request) -> web.Response:
        mail = self._mail()
        n, part = int(request.match_info["n"]), int(request.match_info["part"])
        parts = list(mail[n].message.iter_attachments()) if n < len(mail) else []
        if part >= len(parts):
            return self.pages.error(404, "No such attachment", "The outbox holds no such file.")
        a = parts[part]
        return web.Response(
            body=a.get_payload(decode=True),
            content_type=a.get_content_type(),
            headers={"Content-Disposition": f'attachment; filename="{a.get_filename()}"'},
        )


def _scenario(key: str) -> Scenario | None:
    return next((s for s in SCENARIOS if s.key == key), None)


def _first(items: list[Any]) -> Any:
    return items[0] if items else None
