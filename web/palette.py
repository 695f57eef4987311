"""One colour per segment, everywhere (charts, table, result card), indexed by `clusterId`.

Twelve colours that stay distinct under the common colour-vision deficiencies: the seven
non-black colours of Okabe & Ito's palette followed by five from Paul Tol's "muted" scheme
(both designed for colour-blind readers). The first colours are the most distinct, and cluster
ids run largest segment first, so the big segments get the safest colours. Past twelve segments
the colours repeat (the API's default search stops at k = 10).
"""

from __future__ import annotations

SEGMENT_COLORS: tuple[str, ...] = (
    "#0072B2",  # blue (Okabe-Ito)
    "#E69F00",  # orange (Okabe-Ito)
    "#009E73",  # bluish green (Okabe-Ito)
    "#CC79A7",  # reddish purple (Okabe-Ito)
    "#56B4E9",  # sky blue (Okabe-Ito)
    "#D55E00",  # vermillion (Okabe-Ito)
    "#F0E442",  # yellow (Okabe-Ito)
    "#332288",  # indigo (Tol muted)
    "#999933",  # olive (Tol muted)
    "#882255",  # wine (Tol muted)
    "#44AA99",  # teal (Tol muted)
    "#CC6677",  # rose (Tol muted)
)


def segment_color(cluster_id: int) -> str:
    """The colour of segment `cluster_id`."""
    return SEGMENT_COLORS[cluster_id % len(SEGMENT_COLORS)]


def text_color_on(background: str) -> str:
    """Black or white, whichever reads better on `background` (a `#rrggbb` colour).

    Uses the WCAG relative luminance, so yellow gets black text and indigo gets white.
    """
    channels = [int(background[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    # Contrast with black is (L + 0.05) / 0.05, with white 1.05 / (L + 0.05): pick the larger.
    return "#000000" if (luminance + 0.05) / 0.05 >= 1.05 / (luminance + 0.05) else "#ffffff"
