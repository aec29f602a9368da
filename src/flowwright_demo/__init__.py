"""flowwright's reference flow server: a real multi-agent server with deterministic agents.

Needs the ``demo`` extra (``pip install "flowwright[demo]"``): without it, importing the
package (or ``python -m flowwright_demo``) fails at once with a message naming the extra.
"""

from flowwright.extras import require_extra

require_extra("demo", "the reference flow server (flowwright_demo)")

__all__: list[str] = []  # run it with `python -m flowwright_demo`; nothing to import
