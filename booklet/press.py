"""Press stage: finish a PDF/X file the way a print shop's preflight expects it.

WeasyPrint writes the page with its bleed and nothing around it, so printer's
marks drawn there land on the bleed (over the cover band) and the registration
targets are cut in half. This stage, run on the written bytes, adds a slug
around the bleed (MediaBox larger than BleedBox), draws crop marks and
registration targets there in the registration colour (a Separation named
All, which prints on every plate), attaches the output intent (the ICC
characterization of the printing condition) without which a file must not
claim PDF/X, and for PDF/X-1a turns every remaining RGB colour into CMYK.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

from booklet.core import BookletError, Format
from booklet.project import Project

MM = 72 / 25.4
SLUG_MM = 10.0  # beyond the bleed: room for marks a trimmer cuts away
MARK_GAP_MM = 1.0  # marks start this far outside the bleed, never on it
MARK_WIDTH_PT = 0.25
# A freely licensed CMYK characterization from a Debian package (libgs-common,
# Ghostscript's "Artifex CMYK SWOP Profile", AGPL-3+): the default output
# intent when booklet.toml names none. A print shop's own profile replaces it.
DEFAULT_PROFILES = (Path("/usr/share/color/icc/ghostscript/default_cmyk.icc"),)


@dataclass(frozen=True)
class OutputIntent:
    profile: Path
    condition: str  # human-readable printing condition
    identifier: str = "Custom"  # a registered name (e.g. "FOGRA39") or Custom


def output_intent(project: Project) -> OutputIntent:
    """The press's ICC profile: booklet.toml [press], else the packaged default, else refuse."""
    press = project.press
    if press.output_profile:
        return OutputIntent(press.output_profile,
                            press.output_condition or _profile_description(press.output_profile))
    for profile in DEFAULT_PROFILES:
        if profile.is_file():
            return OutputIntent(profile, _profile_description(profile))
    raise BookletError(
        f"{project.config_path}: the press formats need an output intent (the ICC profile "
        "of the printing condition) and none is configured or installed; ask the print "
        "shop for its profile, copy it into assets/ and add [press] output_profile = "
        '"assets/PROFILE.icc" and output_condition = "..." (or install the Debian '
        "package libgs-common for a generic CMYK default)")


def _profile_description(path: Path) -> str:
    from PIL import ImageCms

    try:
        description = ImageCms.getOpenProfile(str(path)).profile.profile_description
    except (OSError, ImageCms.PyCMSError) as exc:
        raise BookletError(f"{path}: not a readable ICC profile ({exc}); ask the print "
                           "shop for the .icc file of its printing condition") from None
    return (description or path.stem).strip()


def finish_press(data: bytes, project: Project, fmt: Format) -> bytes:
    """Add slug, marks and output intent to a press PDF, and leave no RGB or Lab colour."""
    import pikepdf

    pdf = pikepdf.open(io.BytesIO(data))
    # A project that declared its profile in CSS (@color-profile device-cmyk) has one.
    intent = None if "/OutputIntents" in pdf.Root else output_intent(project)
    _convert_rgb(pdf)  # SVG figures and icons draw in RGB; a press wants process CMYK
    registration = _registration_colour(pdf)
    for page in pdf.pages:
        _add_slug_and_marks(pdf, page, registration)
    if intent:
        _attach_output_intent(pdf, intent)
    out = io.BytesIO()
    pdf.save(out, deterministic_id=True)  # same input, same bytes
    return out.getvalue()


def _registration_colour(pdf):
    """Separation All: the colour printed on every plate, for marks only."""
    import pikepdf

    tint = pikepdf.Dictionary(FunctionType=2, Domain=[0, 1], C0=[0, 0, 0, 0],
                              C1=[1, 1, 1, 1], N=1)
    return pdf.make_indirect(pikepdf.Array([pikepdf.Name.Separation, pikepdf.Name.All,
                                            pikepdf.Name.DeviceCMYK, tint]))


def _marks(trim: list[float], bleed_pt: float) -> bytes:
    """Crop marks at the trim corners and registration targets mid-edge, all in the slug."""
    x0, y0, x1, y1 = trim
    start = bleed_pt + MARK_GAP_MM * MM
    end = bleed_pt + (SLUG_MM - 1) * MM
    ops = [f"{MARK_WIDTH_PT} w 0 J [] 0 d /BookletAll CS 1 SCN"]
    for x, dx in ((x0, -1), (x1, 1)):
        for y, dy in ((y0, -1), (y1, 1)):
            ops.append(f"{x + dx * start:.3f} {y:.3f} m {x + dx * end:.3f} {y:.3f} l S")
            ops.append(f"{x:.3f} {y + dy * start:.3f} m {x:.3f} {y + dy * end:.3f} l S")
    middle = bleed_pt + SLUG_MM * MM / 2
    radius, arm = 2.2 * MM, 3.2 * MM
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    for tx, ty in ((cx, y0 - middle), (cx, y1 + middle), (x0 - middle, cy), (x1 + middle, cy)):
        ops.append(_circle(tx, ty, radius))
        ops.append(f"{tx - arm:.3f} {ty:.3f} m {tx + arm:.3f} {ty:.3f} l S "
                   f"{tx:.3f} {ty - arm:.3f} m {tx:.3f} {ty + arm:.3f} l S")
    return ("q\n" + "\n".join(ops) + "\nQ\n").encode()


def _circle(x: float, y: float, r: float) -> str:
    """A stroked circle as four Bézier quarter arcs."""
    k = 0.5523 * r
    arcs = [(x + r, y + k, x + k, y + r, x, y + r), (x - k, y + r, x - r, y + k, x - r, y),
            (x - r, y - k, x - k, y - r, x, y - r), (x + k, y - r, x + r, y - k, x + r, y)]
    return f"{x + r:.3f} {y:.3f} m " + " ".join(
        " ".join(f"{v:.3f}" for v in arc) + " c" for arc in arcs) + " S"


def _add_slug_and_marks(pdf, page, registration) -> None:
    import pikepdf

    trim = [float(v) for v in page.obj.get("/TrimBox", page.MediaBox)]
    bleed_box = [float(v) for v in page.obj.get("/BleedBox", page.MediaBox)]
    bleed_pt = max(trim[0] - bleed_box[0], 0.0)
    slug = SLUG_MM * MM
    media = [bleed_box[0] - slug, bleed_box[1] - slug, bleed_box[2] + slug, bleed_box[3] + slug]
    page.obj.MediaBox = pikepdf.Array([round(v, 4) for v in media])
    page.obj.BleedBox = pikepdf.Array([round(v, 4) for v in bleed_box])
    if "/CropBox" in page.obj:
        del page.obj["/CropBox"]
    if "/Resources" not in page.obj:
        page.obj.Resources = pikepdf.Dictionary()
    resources = page.obj.Resources
    if "/ColorSpace" not in resources:
        resources.ColorSpace = pikepdf.Dictionary()
    resources.ColorSpace.BookletAll = registration
    # The page's own drawing keeps its graphics state to itself; marks come after.
    page.contents_add(pikepdf.Stream(pdf, b"q\n"), prepend=True)
    # Marked as an artifact: not part of the tagged content a reader's software reads.
    page.contents_add(pikepdf.Stream(pdf, b"Q\n/Artifact BMC\n" + _marks(trim, bleed_pt)
                                     + b"\nEMC\n"))


def _attach_output_intent(pdf, intent: OutputIntent) -> None:
    import pikepdf

    profile = pikepdf.Stream(pdf, intent.profile.read_bytes())
    profile.N = 4
    pdf.Root.OutputIntents = pikepdf.Array([pikepdf.Dictionary(
        Type=pikepdf.Name.OutputIntent, S=pikepdf.Name.GTS_PDFX,
        OutputConditionIdentifier=intent.identifier, OutputCondition=intent.condition,
        Info=intent.condition, RegistryName="http://www.color.org",
        DestOutputProfile=pdf.make_indirect(profile))])


# Press files: CMYK (and spot) only (PDF/X-1a demands it; a PDF/X-4 with a CMYK
# output intent is better without device RGB too). WeasyPrint draws SVG figures and a few theme
# colours in RGB; each becomes the CMYK a plain conversion gives (greys on black
# ink only, so grey text stays sharp), and unused RGB or Lab spaces are dropped.
RGB_SPACES = {"/DeviceRGB", "/CalRGB"}


def rgb_to_cmyk(r: float, g: float, b: float) -> tuple[float, float, float, float]:
    k = 1 - max(r, g, b)
    if k >= 1:
        return 0.0, 0.0, 0.0, 1.0
    return tuple(round(v, 4) for v in ((1 - r - k) / (1 - k), (1 - g - k) / (1 - k),
                                       (1 - b - k) / (1 - k), k))


def _is_rgb_space(space) -> bool:
    import pikepdf

    if isinstance(space, pikepdf.Name):
        return str(space) in RGB_SPACES
    if isinstance(space, pikepdf.Array) and len(space):
        kind = str(space[0])
        if kind in ("/CalRGB", "/Lab"):
            return True
        if kind == "/ICCBased":
            return int(space[1].get("/N", 0)) == 3
    return False


def _convert_stream(pdf, owner, resources, done: set) -> None:
    import pikepdf

    if owner.objgen != (0, 0):
        if owner.objgen in done:
            return
        done.add(owner.objgen)
    spaces = resources.get("/ColorSpace", pikepdf.Dictionary()) if resources else {}
    rgb_names = {name for name, space in dict(spaces).items() if _is_rgb_space(space)}
    out = []
    fill_rgb = stroke_rgb = False
    for operands, operator in pikepdf.parse_content_stream(owner):
        op = str(operator)
        if op in ("rg", "RG"):
            cmyk = rgb_to_cmyk(*(float(v) for v in operands))
            out.append(([*cmyk], pikepdf.Operator("k" if op == "rg" else "K")))
            continue
        if op in ("cs", "CS"):
            is_rgb = str(operands[0]) in RGB_SPACES or str(operands[0]) in rgb_names
            if op == "cs":
                fill_rgb = is_rgb
            else:
                stroke_rgb = is_rgb
            if is_rgb:
                out.append(([pikepdf.Name.DeviceCMYK], operator))
                continue
        if op in ("sc", "scn", "SC", "SCN") and len(operands) == 3 and \
                (fill_rgb if op in ("sc", "scn") else stroke_rgb):
            out.append(([*rgb_to_cmyk(*(float(v) for v in operands))], operator))
            continue
        out.append((operands, operator))
    owner.write(pikepdf.unparse_content_stream(out))
    for name in rgb_names:
        del spaces[name]
    for xobject in dict(resources.get("/XObject", {})).values() if resources else ():
        if xobject.get("/Subtype") == "/Form":
            _convert_stream(pdf, xobject, xobject.get("/Resources"), done)
        elif xobject.get("/Subtype") == "/Image":
            _convert_image(pdf, xobject)
    for pattern in dict(resources.get("/Pattern", {})).values() if resources else ():
        if int(pattern.get("/PatternType", 0)) == 1:
            _convert_stream(pdf, pattern, pattern.get("/Resources"), done)


def _convert_image(pdf, image) -> None:
    import pikepdf
    from pikepdf import PdfImage

    if not _is_rgb_space(image.get("/ColorSpace")):
        return
    picture = PdfImage(image).as_pil_image().convert("CMYK")
    image.write(picture.tobytes())
    for key in ("/DecodeParms", "/Decode"):
        if key in image:
            del image[key]
    image.ColorSpace = pikepdf.Name.DeviceCMYK
    image.BitsPerComponent = 8


def _convert_rgb(pdf) -> None:
    done: set = set()
    for page in pdf.pages:
        page.contents_coalesce()
        _convert_stream(pdf, page.obj.Contents, page.obj.get("/Resources"), done)
    for page in pdf.pages:
        group = page.obj.get("/Group")
        if group is not None and _is_rgb_space(group.get("/CS")):
            del page.obj["/Group"]


def rgb_operators(data: bytes) -> list[str]:
    """Where a PDF still paints in RGB or Lab: for tests and checks of PDF/X-1a files."""
    import pikepdf

    found = []
    pdf = pikepdf.open(io.BytesIO(data))
    for number, page in enumerate(pdf.pages, start=1):
        for _operands, operator in pikepdf.parse_content_stream(page):
            if str(operator) in ("rg", "RG"):
                found.append(f"page {number}: {operator}")
    for obj in pdf.objects:
        if isinstance(obj, pikepdf.Stream) and obj.get("/Subtype") == "/Form":
            text = obj.read_bytes()
            if re.search(rb"(^|\s)(rg|RG)(\s|$)", text):
                found.append(f"form {obj.objgen}: rg")
    return found
