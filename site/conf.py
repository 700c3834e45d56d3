"""One Sphinx configuration for both editions of the site.

tools/site.py stages each edition's pages into its own source folder and runs sphinx-build with
`-c site` and the environment variable SITE_LANG (en or zh). The committed notebooks are rendered as
they are: never executed here.
"""
import os
from pathlib import Path

SITE_LANG = os.environ.get("SITE_LANG", "en")
if SITE_LANG not in ("en", "zh"):
    raise ValueError(f"SITE_LANG must be en or zh, not {SITE_LANG!r}")
OTHER_LANG = "zh" if SITE_LANG == "en" else "en"

UI = {
    "en": {
        "project": "RNNs with PyTorch, in runnable notebooks",
        "switch": "中文版",
        "switch_title": "Read this page in Chinese",
        "editions": "Both editions",
        "download": "Download this notebook (.ipynb)",
        "demo": "Live demo: classify a surname",
        "author": "The rnn-tutorial authors",
        "copyright": "2026, the rnn-tutorial authors. Code: MIT licence; prose and figures: CC BY 4.0",
    },
    "zh": {
        "project": "用 PyTorch 理解 RNN：可运行的 notebook",
        "switch": "English",
        "switch_title": "阅读本页的英文版",
        "editions": "选择语言",
        "download": "下载本 notebook（.ipynb）",
        "demo": "在线演示：输入姓氏，判断语言",
        "author": "rnn-tutorial 的作者们",
        "copyright": "2026，rnn-tutorial 的作者们。代码：MIT 许可证；文字和图：CC BY 4.0",
    },
}[SITE_LANG]

project = UI["project"]
author = UI["author"]
copyright = UI["copyright"]
language = "en" if SITE_LANG == "en" else "zh_CN"

extensions = ["myst_nb", "sphinx_copybutton"]
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3
myst_dmath_double_inline = True  # $$...$$ inside a paragraph, as Jupyter renders it
nb_execution_mode = "off"  # render the committed, tested outputs; never execute
nb_merge_streams = True
exclude_patterns = ["_build", "**.ipynb_checkpoints"]
suppress_warnings = ["mystnb.unknown_mime_type"]
templates_path = [str(Path(__file__).parent / "_templates")]

# MathJax from the site itself (copied from npm's mathjax@3.2.2 by tools/site.py), never from a CDN.
# A relative mathjax_path is relative to _static.
mathjax_path = "mathjax/tex-chtml.js"

html_theme = "sphinx_book_theme"
html_title = UI["project"]
html_static_path = [str(Path(__file__).parent / "_static")]
html_css_files = ["site.css"]
html_sourcelink_suffix = ""  # _sources/<page>.ipynb is the committed notebook itself
html_show_sphinx = False
html_last_updated_fmt = None
html_sidebars = {
    "**": ["navbar-logo.html", "edition-switch.html", "search-button-field.html", "sbt-sidebar-nav.html"]
}
html_theme_options = {
    "use_download_button": True,
    "use_fullscreen_button": False,
    "home_page_in_toc": True,
    "show_navbar_depth": 1,
    "navigation_with_keys": False,
}
html_context = {"default_mode": "auto"}  # without it the theme logs an error on a first visit
html_search_language = "zh" if SITE_LANG == "zh" else "en"


def _page_context(app, pagename, templatename, context, doctree):
    """Links every page gives: the same page in the other edition, its notebook, the demo."""
    up = "../" * pagename.count("/")
    context["site_ui"] = UI
    context["other_edition_url"] = f"{up}../{OTHER_LANG}/{pagename}.html"
    context["editions_url"] = f"{up}../index.html"
    context["demo_url"] = f"{up}../demo/{SITE_LANG}/index.html"
    source = app.env.doc2path(pagename, False) if pagename in app.env.all_docs else ""
    context["notebook_url"] = f"{up}_sources/{pagename}.ipynb" if str(source).endswith(".ipynb") else ""


def setup(app):
    app.connect("html-page-context", _page_context)
