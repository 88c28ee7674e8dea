"""Format readers behind `livechat.data.load.load_table`.

Each module reads one kind of file (or does one clean-up step) and raises
`DataLoadError` for anything it cannot read. Callers outside `livechat.data.load` should
use `livechat.data.load.load_table`, not these modules.
"""
