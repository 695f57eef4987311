"""Reflex configuration: the web app lives in the `web` package (web/web.py builds `rx.App`).

Every outside call is off (telemetry here; the version check through REFLEX_CHECK_LATEST_VERSION,
which web.serve and the Makefile set) and the server binds to loopback unless told
otherwise (`SEGMENTATION_WEB_HOST`, read by web/settings.py).
"""

import reflex as rx
from reflex_base.constants.installer import PackageJson

from web.settings import allowed_origins, web_host

# `reflex run` (dev) starts Vite bound to every interface; keep it on loopback like the backend.
PackageJson.Commands.DEV = "react-router dev --host 127.0.0.1"

config = rx.Config(
    app_name="web",
    telemetry_enabled=False,
    show_built_with_reflex=False,
    backend_host=web_host(),
    # Reflex would allow every origin, on its routes and on the mounted `/graphql` alike.
    cors_allowed_origins=allowed_origins(),
    # In memory, not pickled to `.states/` on disk: the state can hold the API key (backend-only,
    # never sent to the page) and must not leave it in a file. One backend worker serves every
    # client (no Redis), so memory is also the faster choice; state is per browser session anyway.
    state_manager_mode=rx.constants.StateManagerMode.MEMORY,
    plugins=[
        # Light/dark follows the system ("inherit") until the user flips the toggle.
        rx.plugins.RadixThemesPlugin(
            theme=rx.theme(appearance="inherit", accent_color="indigo", radius="medium")
        ),
    ],
    disable_plugins=[rx.plugins.SitemapPlugin],
)
