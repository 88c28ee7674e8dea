"""Live Data Chat. Importing the package sets the allocators up before pyarrow loads
(``livechat.allocators``: freed memory goes back to the system)."""

from livechat import allocators as _allocators

_allocators.configure()
