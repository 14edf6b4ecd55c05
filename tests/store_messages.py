"""The messages each of the five stores' customers and staff receive, rendered under its
shipped policy (deploy/policies) by `trackwatch preview`'s machinery, checked in under
tests/golden/store_messages/<policy>/ for reviewers to read beside the store's own page
(shared/seeds): one file per customer message, `staff.txt` with every staff message, and
`not_told.txt` with what customers are not told and why.

`python -m tests.store_messages` writes them again after a deliberate change; read the diff.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from trackwatch.config import StoreSettings, read_policy_file
from trackwatch.model import Audience
from trackwatch.preview import Message, messages

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ROOT / "deploy" / "policies"
GOLDEN = Path(__file__).parent / "golden" / "store_messages"
SEEDS = Path(__file__).parent / "fixtures" / "seeds"  # copies of shared/seeds (README there)
# policy file stem: (seed page, the store's name and address as its page gives them)
STORES = {
    "jersey-store": ("000", "Jersora", "contact@jersora.com"),
    "phone-case-store": ("001", "Casesora", "help@casesora.com"),
    "art-print-store": ("002", "JJsArt", "info@jjsart.co.uk"),
    "cross-border-phone-case-store": ("003", "Cross-border Cases", ""),
    "custom-toy-store": ("004", "JetoyUSA", "support@jetoyusa.com"),
}


def page(stem: str) -> str:
    """The store's own help page."""
    seed = STORES[stem][0]
    return next(SEEDS.glob(f"{seed}_*.txt")).read_text(encoding="utf-8")


def plain(text: str) -> str:
    """Words alone, for comparing a quote with its page: case, punctuation, curly or straight
    apostrophes and line breaks do not count."""
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text.lower()).split())


# Stores with their own tracking page, which their notices link to (seed 004: "Visit our
# order tracking page").
TRACKING_PAGES = {"custom-toy-store"}


def store(stem: str) -> StoreSettings:
    _, name, email = STORES[stem]
    policy = read_policy_file(POLICIES / f"{stem}.toml")
    page = {"enabled": stem in TRACKING_PAGES}
    return StoreSettings.model_validate({"name": name, "contact_email": email, "policy": policy,
                                         "tracking_page": page})  # fmt: skip


def store_messages(stem: str) -> list[Message]:
    return messages(stem, store(stem))


def _text(message: Message) -> str:
    return f"Subject: {message.title}\n\n{message.body}\n"


def rendered(stem: str) -> dict[str, str]:
    """The golden files of one store: file name → text."""
    found = store_messages(stem)
    files = {f"{m.name}.txt": _text(m) for m in found
             if m.sent and m.audience is Audience.CUSTOMER}  # fmt: skip
    files["staff.txt"] = "\n".join(
        f"== {m.name}\n{_text(m)}" for m in found if m.audience is Audience.STAFF
    )
    files["not_told.txt"] = "".join(f"{m.sample}: {m.body}\n" for m in found if not m.sent)
    return files


def write() -> None:
    for stem in STORES:
        folder = GOLDEN / stem
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        for name, text in rendered(stem).items():
            (folder / name).write_text(text, encoding="utf-8")
        print(f"wrote {folder}")


if __name__ == "__main__":
    write()
