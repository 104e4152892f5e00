"""Smoke test of a running Tandem over plain HTTP (used by .ci/run after `make run`).

Signs in as the demo lead, checks the demo project is listed and opens, checks that a
non-member gets 404 on it, and runs a health-check job through the worker.
Usage: python scripts/smoke_http.py [BASE_URL]
"""

import http.cookiejar
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

BASE = (sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000").rstrip("/")
PROJECT = "/p/trainee-ikt/"


class Client:
    def __init__(self):
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, path: str) -> tuple[int, str, str]:
        try:
            with self.opener.open(BASE + path, timeout=20) as resp:
                return resp.status, resp.geturl(), resp.read().decode()
        except urllib.error.HTTPError as err:
            return err.code, err.url, err.read().decode()

    def post(self, path: str, data: dict, referer: str) -> tuple[int, str, str]:
        token = next(c.value for c in self.jar if c.name == "csrftoken")
        body = urllib.parse.urlencode({"csrfmiddlewaretoken": token, **data}).encode()
        req = urllib.request.Request(BASE + path, data=body, headers={"Referer": BASE + referer})
        try:
            with self.opener.open(req, timeout=20) as resp:
                return resp.status, resp.geturl(), resp.read().decode()
        except urllib.error.HTTPError as err:
            return err.code, err.url, err.read().decode()

    def login(self, username: str) -> str:
        self.get("/accounts/login/")
        status, url, html = self.post(
            "/accounts/login/", {"username": username, "password": "tandem-demo"},
            "/accounts/login/",
        )
        if status != 200 or url.rstrip("/") != BASE:
            fail(f"signing in as {username} ended at {url} ({status})")
        return html


def fail(message: str) -> None:
    print(f"SMOKE FAILED: {message}")
    sys.exit(1)


def main() -> None:
    lead = Client()
    home = lead.login("lead")
    if "Trainee-led IKT scoping review" not in home:
        fail("the demo project is not on the lead's home page")
    status, _, page = lead.get(PROJECT)
    if status != 200 or "Your role: Lead" not in page:
        fail(f"the lead cannot open the demo project ({status})")

    ada = Client()
    ada.login("ada")
    status, _, page = ada.get(PROJECT)
    if status != 200 or "Your role: Reviewer" not in page:
        fail(f"ada does not see the demo project as a reviewer ({status})")

    outsider = Client()
    status, _, _ = outsider.get("/accounts/signup/")
    if status == 200:  # ALLOW_SIGNUP=1: a new account that is in no project
        name = f"outsider{int(time.time())}"
        password = "an-outsider-pass-phrase-1"
        status, url, _ = outsider.post("/accounts/signup/", {
            "username": name, "display_name": "Otto", "email": f"{name}@example.org",
            "password1": password, "password2": password}, "/accounts/signup/")
        if url.rstrip("/") != BASE:
            fail(f"signing up {name} ended at {url} ({status})")
        status, _, _ = outsider.get(PROJECT)
        if status != 404:
            fail(f"a non-member got {status} on the demo project, not 404")
        print("smoke: a non-member gets 404 on the demo project")
    else:
        print("smoke: sign-up is closed (ALLOW_SIGNUP unset): non-member check not run")

    status, url, _ = lead.post(PROJECT + "jobs/health-check/", {}, PROJECT)
    match = re.search(r"/jobs/(\d+)/$", url)
    if status != 200 or not match:
        fail(f"starting the health check ended at {url} ({status})")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        _, _, page = lead.get(f"{PROJECT}jobs/{match.group(1)}/")
        state = re.search(r'data-status="(\w+)"', page).group(1)
        if state in ("succeeded", "failed"):
            break
        time.sleep(1)
    if state != "succeeded":
        fail(f"the health-check job ended {state}")
    print(f"smoke: lead and ada see the demo project; health-check job {match.group(1)} "
          f"succeeded through the worker")


if __name__ == "__main__":
    main()
