"""Program configuration files: every *.yaml / *.yml in one directory, read at start."""

from __future__ import annotations

from pathlib import Path

import yaml

from incentives.domain.programs import Program, ProgramError, check_catalogue, parse_program

BUNDLED = Path(__file__).resolve().parents[1] / "programs"


def load_programs(directory: Path) -> tuple[Program, ...]:
    if not directory.is_dir():
        raise ProgramError(f"programs directory {directory} does not exist")
    files = sorted(p for p in directory.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    if not files:
        raise ProgramError(f"no program files (*.yaml) in {directory}")
    programs = []
    for path in files:
        try:
            doc = yaml.safe_load(path.read_text())
        except yaml.YAMLError as exc:
            raise ProgramError(f"{path.name}: not valid YAML: {exc}") from None
        programs.append(parse_program(doc, source=path.name))
    return check_catalogue(programs)
