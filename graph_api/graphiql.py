"""GraphiQL without internet: the page's CDN assets served from the app.

Strawberry's GraphiQL page loads React, GraphiQL and the explorer plugin from unpkg.com. The
Makefile installs exactly those versions from the npm registry into ``.tools/node_modules`` (see
tools.package.json); this module rewrites the page's ``https://unpkg.com/`` URLs to the app's own
``/graphiql-assets/`` route, which serves only those files. The bytes are the same, so the page's
subresource-integrity hashes still hold. If the assets are missing, the page keeps its CDN URLs
(it then works online only) and a warning says how to install them.

The page opens with a ready example, the dashboard query (:data:`DEFAULT_QUERY`), instead of
GraphiQL's welcome text: Strawberry has no setting for it, so the page's ``EXAMPLE_QUERY``
constant is replaced (a ``?q=`` in the URL still wins, as before).
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from strawberry.http.ides import get_graphql_ide_html

logger = logging.getLogger(__name__)

CDN = "https://unpkg.com/"
ASSETS_ROUTE = "/graphiql-assets"
_ASSET_URL = re.compile(r"https://unpkg\.com/((?:@[^/@\"]+/)?[^/@\"]+)@([^/\"]+)/([^\"]+)")
_EXAMPLE_QUERY = re.compile(r"const EXAMPLE_QUERY = `.*?`;", re.S)

#: What GraphiQL opens with: the whole dashboard in one request. Anonymous on purpose: GraphiQL
#: remembers a named operation and would send its name with whatever replaces the text.
DEFAULT_QUERY = """\
# Customer segmentation API: the dashboard in one request. Press the run button
# (or Ctrl-Enter); the Docs pane lists every query and mutation (predict,
# predictRecord, train, uploadDataset, activateModel, scoreDataset...).
{
  health { status modelLoaded modelVersion training { stage completed total } }
  model { version k silhouette nCustomers trainedAt datasetName features }
  clusters {
    clusterId name size share stability
    drivers { feature zScore direction }
  }
  elbow { optimalK elbowK points { k inertia silhouette } }
}
"""


def with_default_query(html: str, query: str = DEFAULT_QUERY) -> str:
    """The page with ``query`` as the editor's starting text (unchanged if the page's
    ``EXAMPLE_QUERY`` constant is not found, with a warning)."""
    literal = query.replace("\\", "\\\\").replace("`", "\\`").replace("${", "\\${")
    replaced, count = _EXAMPLE_QUERY.subn(lambda _m: f"const EXAMPLE_QUERY = `{literal}`;", html)
    if count != 1:
        logger.warning("GraphiQL page has no EXAMPLE_QUERY constant: it opens without an example")
        return html
    return replaced


@dataclass(frozen=True)
class GraphiQLPage:
    """The IDE page and the local files it may load (keyed by their unpkg-style path)."""

    cdn_html: str
    files: dict[str, Path]

    @property
    def offline(self) -> bool:
        """Whether every asset is installed locally."""
        return bool(self.files)

    def html(self, root_path: str = "") -> str:
        """The page, pointing at this app's assets when they are installed."""
        if not self.offline:
            return self.cdn_html
        return self.cdn_html.replace(CDN, f"{root_path}{ASSETS_ROUTE}/")

    def serve(self, request: Request) -> Response:
        """Serve one whitelisted asset (``/graphiql-assets/react@18.2.0/umd/...``)."""
        path = self.files.get(request.path_params["path"])
        if path is None:
            return PlainTextResponse("Not Found", status_code=404)
        # Versioned URLs never change content: let browsers keep them.
        return FileResponse(path, headers={"Cache-Control": "public, max-age=31536000, immutable"})


def required_assets(html: str) -> list[tuple[str, str, str]]:
    """(package, version, file) for every CDN asset the page loads."""
    return [(m[1], m[2], m[3]) for m in _ASSET_URL.finditer(html)]


def load_page(node_modules: Path) -> GraphiQLPage:
    """Strawberry's GraphiQL page and the locally installed files it needs (if all are there)."""
    html = with_default_query(get_graphql_ide_html("graphiql"))
    files: dict[str, Path] = {}
    missing: list[str] = []
    for package, version, file in required_assets(html):
        package_dir = node_modules / package
        try:
            installed = json.loads((package_dir / "package.json").read_text())["version"]
        except (OSError, ValueError, KeyError):
            installed = None
        path = (package_dir / file).resolve()
        if installed != version or not path.is_file():
            missing.append(f"{package}@{version}")
            continue
        files[f"{package}@{version}/{file}"] = path
    if missing:
        logger.warning(
            "GraphiQL assets not installed (%s) in %s: the IDE page will load them from %s, "
            "which needs internet. Run `make setup` (npm install in .tools) to serve them locally.",
            ", ".join(missing), node_modules, CDN,
        )
        files = {}
    return GraphiQLPage(cdn_html=html, files=files)
