"""Moved to ``casemgmt.encryption.storage``; this name stays for the migrations and code that import it.

It is the same module object, not a copy: patching or reading an attribute here is patching or reading it there.
"""

import sys

from casemgmt.encryption import storage as _module

sys.modules[__name__] = _module
