from casemgmt.formats.iso import *  # noqa: F403
