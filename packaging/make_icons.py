"""Render resources/icons/cavern.svg to the icon files each OS wants, with no network.

    python packaging/make_icons.py OUT_DIR

writes OUT_DIR/cavern.png (256 px, Linux .desktop), cavern.ico (Windows, 16-256 px) and
cavern.icns (macOS). Qt renders the SVG (QtSvg ships with PySide6); Pillow, when installed,
packs .ico and .icns. Without Pillow, Qt's own ICO writer makes the .ico, and on macOS
`iconutil` makes the .icns. cavern.spec runs this in a subprocess, so the Qt application
object it needs never lives inside PyInstaller's process.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

SVG = Path(__file__).resolve().parent.parent / "resources" / "icons" / "cavern.svg"
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
ICNS_SIZES = (16, 32, 64, 128, 256, 512, 1024)


def render_pngs(svg: Path, sizes, out_dir: Path) -> dict[int, Path]:
    """One square PNG per size, rendered from the vector source (not scaled bitmaps)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    app = QGuiApplication.instance() or QGuiApplication([])  # noqa: F841 (Qt needs it)
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"make_icons: cannot read {svg}")
    out = {}
    for size in sizes:
        image = QImage(size, size, QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        path = out_dir / f"cavern_{size}.png"
        if not image.save(str(path), "PNG"):
            raise SystemExit(f"make_icons: cannot write {path}")
        out[size] = path
    return out


def write_ico(pngs: dict[int, Path], target: Path) -> None:
    try:
        from PIL import Image
    except ImportError:
        Image = None
    if Image is not None:
        big = Image.open(pngs[max(ICO_SIZES)])
        big.save(target, format="ICO", sizes=[(s, s) for s in ICO_SIZES])
        return
    # Qt's ICO plug-in stores the one image it is given; 256 px is what Explorer scales.
    from PySide6.QtGui import QImage
    if not QImage(str(pngs[256])).save(str(target), "ICO"):
        raise SystemExit("make_icons: no Pillow and Qt could not write .ico")


def write_icns(pngs: dict[int, Path], target: Path) -> bool:
    """True when written. Pillow packs ICNS on any OS; iconutil exists on macOS only."""
    try:
        from PIL import Image
        Image.open(pngs[1024]).save(target, format="ICNS")
        return True
    except ImportError:
        pass
    if shutil.which("iconutil"):
        with tempfile.TemporaryDirectory() as tmp:
            iconset = Path(tmp) / "cavern.iconset"
            iconset.mkdir()
            for size in (16, 32, 128, 256, 512):
                shutil.copy(pngs[size], iconset / f"icon_{size}x{size}.png")
                shutil.copy(pngs[size * 2], iconset / f"icon_{size}x{size}@2x.png")
            subprocess.run(["iconutil", "-c", "icns", str(iconset), "-o", str(target)],
                           check=True)
        return True
    return False


def make_icons(out_dir: Path, svg: Path = SVG) -> dict[str, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        pngs = render_pngs(svg, sorted(set(ICO_SIZES) | set(ICNS_SIZES)), Path(tmp))
        made = {"png": out_dir / "cavern.png", "ico": out_dir / "cavern.ico"}
        shutil.copy(pngs[256], made["png"])
        write_ico(pngs, made["ico"])
        if write_icns(pngs, out_dir / "cavern.icns"):
            made["icns"] = out_dir / "cavern.icns"
    return made


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python packaging/make_icons.py OUT_DIR")
    for kind, path in make_icons(Path(sys.argv[1])).items():
        print(f"{kind}\t{path}")
