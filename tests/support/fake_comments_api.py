"""A stand-in for the comment APIs the CI templates call, on 127.0.0.1:

- GitLab: GET/POST .../merge_requests/<iid>/notes, PUT/DELETE .../notes/<id>
  (form-encoded `body`, header `PRIVATE-TOKEN`);
- GitHub: GET/POST .../issues/<n>/comments, PATCH/DELETE
  .../issues/comments/<id> (JSON `{"body"}`, header `Authorization: Bearer`).

and the merge requests of a commit, for the publish jobs' trailers:
GitLab GET .../repository/commits/<sha>/merge_requests, GitHub GET
.../commits/<sha>/pulls (merge request or pull request 42).

Comments live in memory, seeded from the JSON file named by argv[1]; after
every change they are written to argv[2] as a JSON list of {"id", "body"}.
Lists come in pages of two, whatever `per_page` asks, so the callers'
paging is exercised. A request without the token `secret` gets 401. The
port is printed on the first line of standard output. The server stops by
itself after two minutes.
"""

import json
import re
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PAGE = 2
comments = json.load(open(sys.argv[1]))
state_file = sys.argv[2]
next_id = max([c["id"] for c in comments], default=100) + 1
lock = threading.Lock()


def save():
    with open(state_file, "w") as f:
        json.dump(comments, f)


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, code, value=None):
        body = b"" if value is None else json.dumps(value).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def authorized(self):
        return (
            self.headers.get("PRIVATE-TOKEN") == "secret"
            or self.headers.get("Authorization") == "Bearer secret"
        )

    def body(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        if self.headers.get("Content-Type", "").startswith("application/json"):
            return json.loads(raw)["body"]
        return urllib.parse.parse_qs(raw, keep_blank_values=True)["body"][0]

    def handle_any(self, method):
        global next_id
        if not self.authorized():
            return self.reply(401, {"message": "401 Unauthorized"})
        url = urllib.parse.urlparse(self.path)
        path = url.path
        listing = re.fullmatch(r".*/(merge_requests/\d+/notes|issues/\d+/comments)", path)
        one = re.fullmatch(r".*/(merge_requests/\d+/notes|issues/comments)/(\d+)", path)
        commit = re.fullmatch(r".*/commits/[0-9a-f]+/(merge_requests|pulls)", path)
        if commit and method == "GET":
            if commit.group(1) == "pulls":
                return self.reply(200, [{"number": 42, "html_url": "https://github.example.com/shop/config/pull/42"}])
            return self.reply(200, [{"iid": 42, "web_url": "https://git.example.com/shop/config/-/merge_requests/42"}])
        with lock:
            if listing and method == "GET":
                page = int(urllib.parse.parse_qs(url.query).get("page", ["1"])[0])
                return self.reply(200, comments[(page - 1) * PAGE : page * PAGE])
            if listing and method == "POST":
                comment = {"id": next_id, "body": self.body()}
                next_id += 1
                comments.append(comment)
                save()
                return self.reply(201, comment)
            if one and method in ("PUT", "PATCH", "DELETE"):
                found = [c for c in comments if c["id"] == int(one.group(2))]
                if not found:
                    return self.reply(404, {"message": "404 Not found"})
                if method == "DELETE":
                    comments.remove(found[0])
                    save()
                    return self.reply(204)
                found[0]["body"] = self.body()
                save()
                return self.reply(200, found[0])
        return self.reply(404, {"message": f"no route {method} {path}"})

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def do_PUT(self):
        self.handle_any("PUT")

    def do_PATCH(self):
        self.handle_any("PATCH")

    def do_DELETE(self):
        self.handle_any("DELETE")


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
save()
print(server.server_address[1], flush=True)
threading.Timer(120, server.shutdown).start()
server.serve_forever()
