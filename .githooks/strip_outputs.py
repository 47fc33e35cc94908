"""git clean filter for notebooks: outputs and execution counts never reach a commit (stdlib only, so it works
before the project's environment exists). `make` registers it: git config filter.nbstrip.clean."""
import json
import sys


def strip(text: str) -> str:
    try:
        nb = json.loads(text)
    except ValueError:
        return text  # not JSON (a merge conflict, say): leave it for git to show
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
        cell.get("metadata", {}).pop("execution", None)
    return json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    sys.stdout.write(strip(sys.stdin.read()))
