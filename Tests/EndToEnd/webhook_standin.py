"""A loopback stand-in for a Mattermost incoming webhook, for the notification tests.

Its acceptance rules are ported from Mattermost's server source (mattermost/mattermost):
- server/channels/web/webhook.go, InitWebhooks / incomingWebhook: the route is
  POST /hooks/{id:[A-Za-z0-9]+} (other methods: 405, as gorilla/mux answers); the
  Content-Type header is optional, and when present must parse as a media type
  (mime.ParseMediaType; an invalid parameter alone is tolerated) or the request is
  400; application/x-www-form-urlencoded takes the JSON from the `payload` form field,
  multipart/form-data decodes the form fields, anything else decodes the body as JSON;
  success is 200 with "ok" as text/plain.
- server/public/model/incoming_webhook.go, IncomingWebhookRequestFromJSON: one JSON
  value is decoded (encoding/json's Decoder: trailing data after the value is not read);
  on failure it retries once after escaping raw \\n and \\t inside the string values of
  text/pretext/title/value/fallback and friends (escapeControlCharsFromPayload), then 400.
  A field of the wrong type (e.g. "text": 5) is a decode error: 400. encoding/json matches
  field names case-insensitively when there is no exact match.
- server/channels/app/webhook.go, HandleIncomingWebhook: `text` empty and no
  `attachments` → 400 (web.incoming_webhook.text.app_error).
- server/channels/web/handlers.go, ServeHTTP: the body is read through
  http.MaxBytesReader(FileSettings.MaxFileSize + bytes.MinRead); the default MaxFileSize is
  100 MiB. A longer body is cut there, its JSON fails to decode: 400.
Slack's incoming webhooks take the same JSON (`text`, or blocks/attachments) and answer
200 "ok" likewise. Long texts are split into several posts by Mattermost
(SplitWebhookPost), not refused, so no length rule is ported for `text`.
"""
import http.server, json, re, threading, urllib.parse

MAX_BODY = 100 * 1024 * 1024 + 512
ROUTE = re.compile(r"^/hooks/([A-Za-z0-9]+)$")
TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
MEDIA_TYPE = re.compile(rf"^\s*({TOKEN})/({TOKEN})\s*(;.*)?$")
ESCAPED_KEYS = "text|pretext|title|value|fallback|footer|author_name|image_url|thumb_url"


def escape_control_chars(body):
    """escapeControlCharsFromPayload: \\n and \\t inside the listed keys' string values."""
    pattern = re.compile(rb'(?s)"(' + ESCAPED_KEYS.encode() + rb')"\s*:\s*"(\\"|[^"])*"')
    return pattern.sub(lambda m: m.group(0).replace(b"\n", b"\\n").replace(b"\t", b"\\t"), body)


def decode_one_value(body):
    """encoding/json Decoder.Decode: the first JSON value; what follows it is not looked at."""
    text = body.decode("utf-8", errors="replace").lstrip(" \t\r\n")
    value, _ = json.JSONDecoder().raw_decode(text)
    return value


def field(obj, name):
    if name in obj:
        return obj[name]
    for k, v in obj.items():
        if k.lower() == name.lower():
            return v
    return None


def parse_request(body):
    """IncomingWebhookRequestFromJSON: the request object, or raise ValueError (→ 400)."""
    try:
        value = decode_one_value(body)
    except ValueError:
        value = decode_one_value(escape_control_chars(body))   # raises ValueError again → 400
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError("json: cannot unmarshal into Go value of type model.IncomingWebhookRequest")
    text = field(value, "text")
    if text is not None and not isinstance(text, str):
        raise ValueError("json: cannot unmarshal into field text of type string")
    return value


class Receiver:
    """Runs the stand-in on 127.0.0.1; `status` forces a reply (500, 307) to test failures."""

    def __init__(self, status=None):
        self.accepted = []       # (hook id, request object) of every 200
        self.rejected = []       # (status, reason)
        self.requests = 0
        self.status = status
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def reply(self, code, text, headers=()):
                data = text.encode()
                self.send_response(code)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(data)))
                for k, v in headers:
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                receiver.rejected.append((405, "method"))
                self.reply(405, "method not allowed")

            do_PUT = do_GET

            def do_POST(self):
                receiver.requests += 1
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(min(length, MAX_BODY))
                if receiver.status is not None:
                    code = receiver.status
                    receiver.rejected.append((code, "forced"))
                    # The reply carries an escape sequence: dnsprop must show it escaped.
                    self.reply(code, "forced failure \x1b[31mred", [("Location", "/elsewhere")] if 300 <= code < 400 else [])
                    return
                code, reason, request = self.check(body, length)
                if code != 200:
                    receiver.rejected.append((code, reason))
                    self.reply(code, json.dumps({"id": reason, "status_code": code}))
                    return
                receiver.accepted.append((ROUTE.match(self.path).group(1), request))
                self.reply(200, "ok")

            def check(self, body, length):
                if not ROUTE.match(self.path):
                    return 404, "route", None
                if length > MAX_BODY:
                    return 400, "model.incoming_hook.parse_data.app_error", None
                content_type = self.headers.get("Content-Type", "")
                media = ""
                if content_type:
                    m = MEDIA_TYPE.match(content_type)
                    if not m:
                        return 400, "api.webhook.incoming.error", None
                    media = f"{m.group(1)}/{m.group(2)}".lower()
                try:
                    if media == "application/x-www-form-urlencoded":
                        form = urllib.parse.parse_qs(body.decode("utf-8", errors="replace"))
                        request = parse_request((form.get("payload") or [""])[0].encode())
                    elif media == "multipart/form-data":
                        return 501, "multipart not ported to the stand-in", None
                    else:
                        request = parse_request(body)
                except ValueError:
                    return 400, "model.incoming_hook.parse_data.app_error", None
                if not field(request, "text") and field(request, "attachments") is None:
                    return 400, "web.incoming_webhook.text.app_error", None
                return 200, "", request

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def url(self, hook="dnsprop0hook"):
        return f"http://127.0.0.1:{self.port}/hooks/{hook}"
