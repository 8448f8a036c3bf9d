"""A local stand-in for Grafana's HTTP API that checks each request as Grafana's API documents it
(https://grafana.com/docs/grafana/latest/developers/http_api/): paths, methods, auth header, JSON content
type, and the JSON bodies' required and allowed fields. It keeps what was created, so a test can look."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

TOKEN = "glsa_standin_token"

# Documented bodies: required fields and the fields Grafana accepts.
FOLDER = ({"title"}, {"title", "uid", "parentUid", "description"})
DATASOURCE = ({"name", "type", "access", "url"},
              {"name", "type", "access", "url", "uid", "isDefault", "jsonData", "secureJsonData", "basicAuth",
               "basicAuthUser", "user", "database", "withCredentials", "readOnly", "orgId", "version"})
DASHBOARD = ({"dashboard"}, {"dashboard", "folderUid", "folderId", "overwrite", "message"})
ANNOTATION = ({"text"}, {"dashboardUID", "dashboardId", "panelId", "time", "timeEnd", "tags", "text"})


class StandinGrafana:
    def __init__(self) -> None:
        self.folders: dict[str, dict[str, Any]] = {}
        self.datasources: dict[str, dict[str, Any]] = {}
        self.dashboards: dict[str, dict[str, Any]] = {}
        self.annotations: list[dict[str, Any]] = []
        self.requests: list[tuple[str, str]] = []
        self.violations: list[str] = []
        handler = self._handler()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> StandinGrafana:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _reply(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _refuse(self, status: int, why: str) -> None:
                standin.violations.append(f"{self.command} {self.path}: {why}")
                self._reply(status, {"message": why})

            def _authorised(self) -> bool:
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    self._refuse(401, "missing or wrong Authorization: Bearer header")
                    return False
                return True

            def _json_body(self, spec: tuple[set[str], set[str]]) -> dict[str, Any] | None:
                if not (self.headers.get("Content-Type") or "").startswith("application/json"):
                    self._refuse(415, "Content-Type must be application/json")
                    return None
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    body = json.loads(self.rfile.read(length))
                except ValueError:
                    self._refuse(400, "body is not JSON")
                    return None
                required, allowed = spec
                if not isinstance(body, dict) or required - body.keys() or body.keys() - allowed:
                    self._refuse(400, f"bad fields: missing {required - set(body)}, unknown {set(body) - allowed}")
                    return None
                return body

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                standin.requests.append(("GET", self.path))
                if not self._authorised():
                    return
                url = urlparse(self.path)
                parts = url.path.strip("/").split("/")
                if parts[:2] == ["api", "folders"] and len(parts) == 3:
                    folder = standin.folders.get(parts[2])
                    self._reply(200, folder) if folder else self._reply(404, {"message": "folder not found"})
                elif parts[:3] == ["api", "datasources", "uid"] and len(parts) == 4:
                    ds = standin.datasources.get(parts[3])
                    self._reply(200, ds) if ds else self._reply(404, {"message": "Data source not found"})
                elif parts == ["api", "annotations"]:
                    q = parse_qs(url.query)
                    found = [a for a in standin.annotations
                             if ("dashboardUID" not in q or a.get("dashboardUID") in q["dashboardUID"])
                             and all(t in a.get("tags", []) for t in q.get("tags", []))]
                    self._reply(200, found)
                else:
                    self._refuse(404, "not a documented GET path")

            def do_POST(self) -> None:  # noqa: N802
                standin.requests.append(("POST", self.path))
                if not self._authorised():
                    return
                path = urlparse(self.path).path
                if path == "/api/folders":
                    body = self._json_body(FOLDER)
                    if body is None:
                        return
                    uid = body.get("uid") or f"f{len(standin.folders)}"
                    if uid in standin.folders:
                        self._reply(409, {"message": "a folder with the same uid already exists"})
                        return
                    standin.folders[uid] = {"id": len(standin.folders) + 1, "uid": uid, "title": body["title"]}
                    self._reply(200, standin.folders[uid])
                elif path == "/api/datasources":
                    body = self._json_body(DATASOURCE)
                    if body is None:
                        return
                    if body["access"] not in ("proxy", "direct"):
                        self._refuse(400, "access must be proxy or direct")
                        return
                    if any(d["name"] == body["name"] for d in standin.datasources.values()):
                        self._reply(409, {"message": "data source with the same name already exists"})
                        return
                    uid = body.get("uid") or f"ds{len(standin.datasources)}"
                    standin.datasources[uid] = {**body, "uid": uid, "id": len(standin.datasources) + 1}
                    self._reply(200, {"datasource": standin.datasources[uid], "id": standin.datasources[uid]["id"],
                                      "message": "Datasource added", "name": body["name"]})
                elif path == "/api/dashboards/db":
                    body = self._json_body(DASHBOARD)
                    if body is None:
                        return
                    board = body["dashboard"]
                    if not isinstance(board, dict) or "title" not in board:
                        self._refuse(400, "dashboard must be an object with a title")
                        return
                    if board.get("id") is not None:
                        self._refuse(400, "dashboard.id must be null for a dashboard created by uid")
                        return
                    if board.get("uid") in standin.dashboards and not body.get("overwrite"):
                        self._reply(412, {"message": "A dashboard with the same uid already exists",
                                          "status": "name-exists"})
                        return
                    if body.get("folderUid") and body["folderUid"] not in standin.folders:
                        self._refuse(400, "folder not found")
                        return
                    standin.dashboards[board["uid"]] = body
                    self._reply(200, {"id": len(standin.dashboards), "uid": board["uid"], "status": "success",
                                      "url": f"/d/{board['uid']}/x", "version": 1, "slug": "x"})
                elif path == "/api/annotations":
                    body = self._json_body(ANNOTATION)
                    if body is None:
                        return
                    if not isinstance(body.get("time"), int) or not isinstance(body.get("tags", []), list):
                        self._refuse(400, "time must be epoch milliseconds and tags a list")
                        return
                    standin.annotations.append({**body, "id": len(standin.annotations) + 1})
                    self._reply(200, {"message": "Annotation added", "id": len(standin.annotations)})
                else:
                    self._refuse(404, "not a documented POST path")

            def do_PUT(self) -> None:  # noqa: N802
                standin.requests.append(("PUT", self.path))
                if not self._authorised():
                    return
                parts = urlparse(self.path).path.strip("/").split("/")
                if parts[:3] == ["api", "datasources", "uid"] and len(parts) == 4:
                    body = self._json_body(DATASOURCE)
                    if body is None:
                        return
                    if parts[3] not in standin.datasources:
                        self._reply(404, {"message": "Data source not found"})
                        return
                    standin.datasources[parts[3]].update(body)
                    self._reply(200, {"message": "Datasource updated", "id": standin.datasources[parts[3]]["id"],
                                      "name": body["name"], "datasource": standin.datasources[parts[3]]})
                else:
                    self._refuse(404, "not a documented PUT path")

        return Handler
