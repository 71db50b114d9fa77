"""The record every conversation reader yields."""

import dataclasses
from typing import Optional


@dataclasses.dataclass(frozen=True)
class Pair:
    """One post/response pair.

    Args:
      post: str, raw or space-segmented post text.
      response: str, raw or space-segmented response text.
      response_emotion: Optional[int], emotion id 0..5 of the response (None when unlabelled).
      post_emotion: Optional[int], emotion id 0..5 of the post (None when unknown).
      where: str, "file:line" or "file record N", for error messages.
    """

    post: str
    response: str
    response_emotion: Optional[int] = None
    post_emotion: Optional[int] = None
    where: str = ""
