"""The built site (make site, in build/site/): both editions complete, every figure and formula of the
notebooks on their pages, every local link resolving, nothing loaded from outside. Skipped (one line) without
build/site/ or when it was built from other notebooks than these. The browser tests are `make browser`."""
import hashlib
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "build" / "site"
EDITIONS = {"en": (ROOT / "notebooks", ROOT / "solutions"), "zh": (ROOT / "notebooks" / "zh", ROOT / "solutions" / "zh")}
OUTSIDE = re.compile(r"^(?:[a-z][a-z0-9+.-]*:)?//", re.I)  # http://, https://, protocol-relative //

STAMP = ROOT / "build" / "site-work" / "built-from.json"


def stale():
    """Why build/site/ cannot be checked against the working tree, or None."""
    if not (SITE / "en").is_dir():
        return "no build/site/ (run make site)"
    built = json.loads(STAMP.read_text(encoding="utf-8")) if STAMP.is_file() else {}
    now = {*ROOT.glob("notebooks/**/*.ipynb"), *ROOT.glob("solutions/**/*.ipynb")}
    now = {p.relative_to(ROOT).as_posix() for p in now} | {"README.md", "README.zh.md"}
    if set(built) != now or any(hashlib.sha256((ROOT / f).read_bytes()).hexdigest() != h for f, h in built.items()):
        return "build/site/ was built from other notebooks (run make site)"
    return None


pytestmark = pytest.mark.skipif(stale() is not None, reason=str(stale()))


class Page(HTMLParser):
    """What a test needs from an HTML page: links, resources, ids, images and math in the article."""

    def __init__(self, path):
        super().__init__(convert_charrefs=True)
        self.path, self.links, self.resources, self.ids = path, [], [], set()
        self.images = self.math = self.depth = 0  # depth > 0: inside <article>
        self.lang = None
        self.feed(path.read_text(encoding="utf-8"))

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.lang = a.get("lang") if tag == "html" else self.lang
        self.ids.update(v for k, v in attrs if k in ("id", "name") and v)
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        for key in ("src", "data"):
            if a.get(key):
                self.resources.append(a[key])
        if tag == "link" and a.get("href"):
            self.resources.append(a["href"])
        self.resources += [part.split()[0] for part in a.get("srcset", "").split(",") if part.strip()]
        self.resources += re.findall(r"url\(\s*['\"]?([^'\")]+)", a.get("style", ""))
        self.depth += tag == "article"
        if self.depth and tag == "img":
            self.images += 1
        if self.depth and "math" in (a.get("class") or "").split():
            self.math += 1

    def handle_endtag(self, tag):
        self.depth -= tag == "article" and self.depth > 0


def html_pages(edition):
    """Pages of an edition, relative paths (Sphinx's _static, _sources, ... excluded)."""
    root = SITE / edition
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*.html")
                  if not any(part.startswith("_") for part in p.relative_to(root).parts))


def parsed(path, cache={}):
    if path not in cache:
        cache[path] = Page(path)
    return cache[path]


def notebook_pages(edition):
    """{page path in the edition: committed notebook} for the notebooks and the solutions."""
    notebooks, solutions = EDITIONS[edition]
    pages = {f"{p.stem}.html": p for p in sorted(notebooks.glob("*.ipynb"))}
    pages.update({f"solutions/{p.stem}.html": p for p in sorted(solutions.glob("*.ipynb"))})
    return pages


def markdown_math(text):
    """Formulas in MyST markdown (dollarmath, amsmath): $...$, $$...$$ and \\begin{env}...\\end{env} blocks."""
    text = re.sub(r"^(`{3,}|~{3,}).*?^\1", "", text, flags=re.M | re.S)  # fenced code
    text = re.sub(r"(`+)(?!`).+?(?<!`)\1(?!`)", "", text, flags=re.S)  # inline code
    text = text.replace(r"\$", "")
    display = re.findall(r"\$\$.+?\$\$", text, flags=re.S)
    text = re.sub(r"\$\$.+?\$\$", "", text, flags=re.S)
    inline = re.findall(r"\$(?=\S)[^$]*?(?<=\S)\$", text)
    environments = re.findall(r"^\s*\\begin\{(?:equation|align|gather|multline|eqnarray)\*?\}", text, flags=re.M)
    return len(display) + len(inline) + len(environments)


def notebook_counts(nb):
    """(PNG figures among the outputs, formulas in the markdown cells) of a notebook."""
    images = sum("image/png" in out.get("data", {}) for c in nb["cells"] for out in c.get("outputs", []))
    markdown = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown"]
    images += sum(len(re.findall(r"!\[[^\]]*\]\(|<img\b", m)) for m in markdown)
    return images, sum(markdown_math(m) for m in markdown)


def test_both_editions_have_the_same_pages():
    assert html_pages("en") == html_pages("zh")
    assert (SITE / "index.html").is_file()


@pytest.mark.parametrize("edition", sorted(EDITIONS))
def test_every_notebook_has_its_page_and_download(edition):
    for page, notebook in notebook_pages(edition).items():
        assert (SITE / edition / page).is_file(), f"{notebook.relative_to(ROOT)} has no page {edition}/{page}"
        download = SITE / edition / "_sources" / page.replace(".html", ".ipynb")
        assert download.read_bytes() == notebook.read_bytes(), f"{download} is not the committed notebook"
        links = parsed(SITE / edition / page).links
        assert any((SITE / edition / page).parent.joinpath(link).resolve() == download.resolve() for link in links), \
            f"{edition}/{page} does not offer its notebook for download"


@pytest.mark.parametrize("edition", sorted(EDITIONS))
def test_figures_and_formulas_match_the_notebooks(edition):
    for page, notebook in notebook_pages(edition).items():
        images, math = notebook_counts(json.loads(notebook.read_text(encoding="utf-8")))
        html = parsed(SITE / edition / page)
        assert (html.images, html.math) == (images, math), f"{edition}/{page}: (figures, formulas) on the page"


@pytest.mark.parametrize("edition", sorted(EDITIONS))
def test_pages_say_their_language_and_link_the_other_edition(edition):
    other = "zh" if edition == "en" else "en"
    for page in html_pages(edition):
        html = parsed(SITE / edition / page)
        assert html.lang == {"en": "en", "zh": "zh-CN"}[edition], page
        depth = "../" * page.count("/")
        assert f"{depth}../{other}/{page}" in html.links, f"{edition}/{page} does not link {other}/{page}"


ENGLISH_INTERFACE = ["Search...", "Toggle primary sidebar", "Toggle secondary sidebar", "System Settings",
                     "Color mode", "Copyright", "Download this notebook", "Both editions", "Live demo"]


def test_chinese_pages_have_a_chinese_interface():
    for page in html_pages("zh"):
        html = (SITE / "zh" / page).read_text(encoding="utf-8")
        left = [text for text in ENGLISH_INTERFACE if text in html]
        assert not left, f"zh/{page}: {left}"
    assert "下载本 notebook" in (SITE / "zh" / "01_why_rnn.html").read_text(encoding="utf-8")


def all_html():
    """Every HTML page of the site (not the theme's template fragments that Sphinx copies into _static)."""
    return sorted(p for p in SITE.rglob("*.html") if "_static" not in p.relative_to(SITE).parts)


def test_every_local_link_resolves():
    broken = []
    for path in all_html():
        page = parsed(path)
        for ref in page.links + page.resources:
            parts = urlsplit(ref)
            if parts.scheme or parts.netloc or ref.startswith(("mailto:", "javascript:")):
                continue
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file() or not target.resolve().is_relative_to(SITE.resolve()):
                broken.append(f"{path.relative_to(SITE)} -> {ref}")
            elif parts.fragment and target.suffix == ".html" and unquote(parts.fragment) not in parsed(target).ids:
                broken.append(f"{path.relative_to(SITE)} -> {ref} (no such anchor)")
    assert not broken, "\n".join(broken[:20])


def sources_text():
    """Every text an outside link on the site may come from: notebooks, solutions, site pages, READMEs."""
    files = [*ROOT.glob("notebooks/**/*.ipynb"), *ROOT.glob("solutions/**/*.ipynb"),
             *ROOT.glob("site/pages/**/*.md"), ROOT / "README.md", ROOT / "README.zh.md"]
    return "\n".join(p.read_text(encoding="utf-8") for p in files if p.is_file())


def test_nothing_is_loaded_from_outside():
    loads = [f"{p.relative_to(SITE)}: {ref}" for p in all_html() for ref in parsed(p).resources if OUTSIDE.match(ref)]
    for css in SITE.rglob("*.css"):
        for ref in re.findall(r"(?:url\(|@import)\s*['\"]?([^'\")\s]+)", css.read_text(encoding="utf-8")):
            if OUTSIDE.match(ref):
                loads.append(f"{css.relative_to(SITE)}: {ref}")
    assert not loads, "\n".join(loads[:20])


def test_outside_links_come_from_the_prose():
    """Links to other sites are the authors' (further reading, the licence), none added by the theme."""
    text = sources_text()
    foreign = {ref for p in all_html() for ref in parsed(p).links
               if OUTSIDE.match(ref) and ref not in text}
    assert not foreign, sorted(foreign)


def test_mathjax_is_served_by_the_site():
    for edition in EDITIONS:
        page = parsed(SITE / edition / "02_rnn_cell.html")  # a page with formulas (index.html has none)
        assert any(ref.startswith("_static/mathjax/tex-chtml.js") for ref in page.resources), edition
        assert (SITE / edition / "_static" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2").is_dir()


def test_chinese_search_index_knows_chinese_words():
    index = (SITE / "zh" / "searchindex.js").read_text(encoding="utf-8")
    terms = json.loads(index[index.index("(") + 1:index.rindex(")")])["terms"]
    assert "梯度" in terms  # jieba segments the Chinese text; without it the index holds whole phrases


def test_kit_downloads_are_on_the_teacher_pages():
    for edition in EDITIONS:
        links = parsed(SITE / edition / "teacher.html").links
        assert any(link.endswith(f"rnn-tutorial-kit-{edition}.zip") for link in links), edition
