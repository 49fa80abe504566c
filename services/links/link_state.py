"""Neuroglancer states in URLs, and short links to states stored on a CAVE state server."""
from __future__ import annotations

import json
import urllib.parse
from dataclasses import replace
from typing import TYPE_CHECKING, Callable

from models.errors import InvalidInputError

if TYPE_CHECKING:
    from services.links.neuroglancer_links import NeuroglancerLink


def decode_state(url: str) -> dict:
    """The JSON state in a Neuroglancer URL's fragment (``#!{...}``)."""
    if "#!" not in url:
        raise InvalidInputError("This is not a Neuroglancer state URL (no '#!' fragment).",
                                field="url")
    text = urllib.parse.unquote(url.split("#!", 1)[1])
    try:
        return json.loads(text)
    except ValueError:
        raise InvalidInputError("The Neuroglancer URL's state is not valid JSON.",
                                field="url") from None


Uploader = Callable[[dict, str], str]  # (state JSON, viewer base URL) -> short URL


def short_link(link: NeuroglancerLink, uploader: Uploader, server: str = "the state server"
               ) -> NeuroglancerLink:
    """Upload the link's state and return a link whose URL points at the stored state.

    ``uploader(state, base_url)`` is the source's (DataSource.upload_state); any failure
    of its client becomes one typed error."""
    from models.errors import CavernError
    from services.http_errors import map_exception
    from services.links.neuroglancer_links import site_url
    _, base = site_url(link.site)
    try:
        url = uploader(link.state, base)
    except CavernError:
        raise
    except Exception as exc:
        raise map_exception(exc, "uploading the Neuroglancer state", server) from None
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise InvalidInputError(f"The state server returned no link (got {url!r}).")
    return replace(link, url=url, notes=link.notes + (f"Short link to a state stored on "
                                                       f"{server} ({link.length:,} characters).",))


def add_segment_source(state: dict, source_url: str) -> dict:
    """A copy of the state whose segmentation layer has ``source_url`` as one more source
    (e.g. segment properties: labels and tags of its segments)."""
    from services.links.neuroglancer_links import SEG_LAYER
    layers = []
    for lay in state.get("layers", []):
        if lay.get("name") == SEG_LAYER:
            src = lay.get("source")
            srcs = list(src) if isinstance(src, list) else ([src] if src else [])
            lay = dict(lay, source=srcs + [{"url": source_url}])
        layers.append(lay)
    return dict(state, layers=layers)


def with_segment_properties(link: NeuroglancerLink, source_url: str, note: str
                            ) -> NeuroglancerLink:
    """The link with a segment-properties source on its segmentation layer (URL rebuilt)."""
    from neuroglancer.url_state import to_url_fragment
    from services.links.neuroglancer_links import site_url
    state = add_segment_source(link.state, source_url)
    _, base = site_url(link.site)
    return replace(link, url=f"{base}#!{to_url_fragment(state)}", state=state,
                   notes=link.notes + (note,))
