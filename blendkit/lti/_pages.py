"""The two small pages of cookie-less launches (LTI Platform Storage over postMessage).

The login page stores the browser secret and the nonce in the platform's storage frame
(``lti.put_data``) and then goes to the platform's authorization endpoint; the bridge page, shown
when the launch arrives without the binding cookie, reads the secret back (``lti.get_data``) and
re-posts it with the id_token and state to the launch URL. Messages go only to the platform's
origin and answers are accepted only from it. Values travel in HTML-escaped data attributes; the
scripts are constant, so a CSP hash pins them (no eval, no external script).
"""

from __future__ import annotations

import base64
import hashlib
import html

import orjson

from blendkit.lti._http import HttpResponse

__all__ = ["bridge_page", "storage_login_page"]

_LOGIN_SCRIPT = """(function(){
var d=document.getElementById("lti").dataset,w=d.target==="_parent"?window.parent:
(window.parent.frames[d.target]||window.parent),items=JSON.parse(d.items),left=items.length,
gone=false;
function go(){if(!gone){gone=true;window.location.replace(d.next);}}
window.addEventListener("message",function(e){
if(e.origin!==d.origin||!e.data||e.data.subject!=="lti.put_data.response"||
String(e.data.message_id).indexOf(d.id)!==0)return;
if(--left<=0)go();});
items.forEach(function(it,i){w.postMessage({subject:"lti.put_data",message_id:d.id+"-"+i,
key:it[0],value:it[1]},d.origin);});
setTimeout(go,3000);})();"""

_BRIDGE_SCRIPT = """(function(){
var d=document.getElementById("lti").dataset,f=document.getElementById("f"),
w=d.target==="_parent"?window.parent:(window.parent.frames[d.target]||window.parent),sent=false;
function post(v){if(!sent){sent=true;f.elements.lti_storage_value.value=v;f.submit();}}
window.addEventListener("message",function(e){
if(e.origin!==d.origin||!e.data||e.data.message_id!==d.id)return;
if(e.data.subject==="lti.get_data.response")post(e.data.value||"");});
w.postMessage({subject:"lti.get_data",message_id:d.id,key:d.key},d.origin);
setTimeout(function(){post("");},3000);})();"""


def _script_hash(script: str) -> str:
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


_HEADERS_BASE = (
    ("Content-Type", "text/html; charset=utf-8"),
    ("Cache-Control", "no-store"),
    ("X-Content-Type-Options", "nosniff"),
)


def _headers(script: str) -> tuple[tuple[str, str], ...]:
    csp = f"default-src 'none'; script-src {_script_hash(script)}; form-action 'self'"
    return (*_HEADERS_BASE, ("Content-Security-Policy", csp))


def _attr(value: str) -> str:
    return html.escape(value, quote=True)


def storage_login_page(
    *,
    auth_url: str,
    platform_origin: str,
    storage_target: str,
    message_id: str,
    items: list[tuple[str, str]],
) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Body and headers of the page that fills platform storage then goes to ``auth_url``."""
    body = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Signing in…</title>'
        "</head><body>"
        f'<div id="lti" data-next="{_attr(auth_url)}" data-origin="{_attr(platform_origin)}" '
        f'data-target="{_attr(storage_target)}" data-id="{_attr(message_id)}" '
        f'data-items="{_attr(orjson.dumps(items).decode())}"></div>'
        f'<p>Signing in… <a href="{_attr(auth_url)}">continue</a></p>'
        f"<script>{_LOGIN_SCRIPT}</script></body></html>"
    )
    return body, _headers(_LOGIN_SCRIPT)


def bridge_page(
    *,
    launch_url: str,
    platform_origin: str,
    storage_target: str,
    message_id: str,
    key: str,
    fields: dict[str, str],
) -> HttpResponse:
    """The page that reads the browser secret from platform storage and re-posts the launch."""
    inputs = "".join(
        f'<input type="hidden" name="{_attr(name)}" value="{_attr(value)}">'
        for name, value in fields.items()
    )
    body = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Launching…</title>'
        "</head><body>"
        f'<div id="lti" data-origin="{_attr(platform_origin)}" '
        f'data-target="{_attr(storage_target)}" data-id="{_attr(message_id)}" '
        f'data-key="{_attr(key)}"></div>'
        f'<form id="f" method="post" action="{_attr(launch_url)}">{inputs}'
        '<input type="hidden" name="lti_storage_value" value="">'
        '<noscript><button type="submit">Continue</button></noscript></form>'
        f"<script>{_BRIDGE_SCRIPT}</script></body></html>"
    )
    return HttpResponse(status=200, headers=_headers(_BRIDGE_SCRIPT), body=body)
