"""Great Expectations Data Docs that are the same bytes whenever the same results are rendered.

Only the view and index renderer classes that `validation.run_checks` names in its Data Docs
site configuration (GX's documented way to override a site's views and renderers) belong here.
GX 1.x otherwise writes, besides the run time `run_checks` fixes through the run id:
- the wall-clock time as a cache-busting query on the logo URL of every page
  (`DefaultJinjaView.add_data_context_id_to_url`, `logo-long.png?d=<now>`);
- a random uuid4 as the suffix of every "Show more info..." collapse id
  (`DefaultJinjaView.generate_html_element_uuid`; Jinja folds the call on the constant
  `"-collapse-body-"`, so it is one uuid for every page of a process, never a source of
  uniqueness: the content block id before it is);
- the index page's run times in the machine's local time zone
  (`SiteIndexPageRenderer._get_formatted_datetime`, via tzlocal).
The classes below render the logo URL without the time, a fixed uuid (uuid5 of the prefix)
and the run times in UTC; everything else is GX's own.
"""

from __future__ import annotations

import datetime as dt
import uuid

from dateutil.parser import parse
from great_expectations.render.renderer.site_index_page_renderer import SiteIndexPageRenderer
from great_expectations.render.view.view import DefaultJinjaIndexPageView, DefaultJinjaPageView
from jinja2 import pass_context


class _FixedContent:
    """The two Jinja filters of GX's views that put a time or a random value in a page."""

    def generate_html_element_uuid(self, prefix=None):
        return (prefix or "") + str(uuid.uuid5(uuid.NAMESPACE_URL, prefix or ""))

    @pass_context
    def add_data_context_id_to_url(self, jinja_context, url: str, add_datetime: bool = True):
        # a mixin: the GX view it is mixed into has the method
        return super().add_data_context_id_to_url(  # type: ignore[misc]
            jinja_context, url, add_datetime=False
        )


class PageView(_FixedContent, DefaultJinjaPageView):
    """The expectation suite and validation result pages."""


class IndexPageView(_FixedContent, DefaultJinjaIndexPageView):
    """The index page."""


class IndexPageRenderer(SiteIndexPageRenderer):
    """The index page with run times in UTC, not in the time zone of the machine."""

    @classmethod
    def _get_formatted_datetime(cls, _datetime):
        if isinstance(_datetime, str):
            _datetime = parse(_datetime)
        if not isinstance(_datetime, dt.datetime):
            return None
        return _datetime.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def site_config(base_directory: str) -> dict:
    """A Data Docs site (SiteBuilder) on the local filesystem rendered with the classes above."""
    view = {"module_name": __name__, "class_name": "PageView"}
    return {
        "class_name": "SiteBuilder",
        "store_backend": {
            "class_name": "TupleFilesystemStoreBackend",
            "base_directory": base_directory,
        },
        "site_index_builder": {
            "class_name": "DefaultSiteIndexBuilder",
            "renderer": {"module_name": __name__, "class_name": "IndexPageRenderer"},
            "view": {"module_name": __name__, "class_name": "IndexPageView"},
        },
        "site_section_builders": {
            "expectations": {"view": view},
            "validations": {"view": view},
            "profiling": {"view": view},
        },
    }
