"""Explore: suggested people and trending tags (the grid is a PostPage)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from kafkagram.explore import Suggestion, TrendingTag
from models.users import UserSummaryOut


class SuggestionOut(BaseModel):
    user: UserSummaryOut
    mutual_count: int = Field(description="how many of the people the caller follows follow this user")


class SuggestionList(BaseModel):
    items: list[SuggestionOut] = Field(description="most mutuals first; empty until the caller follows someone")

    @classmethod
    def of(cls, suggestions: list[Suggestion]) -> SuggestionList:
        return cls.model_validate({"items": [{"user": UserSummaryOut.fields(s.user), "mutual_count": s.mutuals}
                                             for s in suggestions]})


class TrendingTagOut(BaseModel):
    tag: str = Field(description="lowercase, without #")
    posts: int = Field(description="posts of the window that carry it")


class TrendingTags(BaseModel):
    items: list[TrendingTagOut] = Field(description="most posted first")
    window_hours: int = Field(description="how far back posts are counted")

    @classmethod
    def of(cls, tags: list[TrendingTag], window_hours: int) -> TrendingTags:
        return cls.model_validate({"items": [{"tag": t.tag, "posts": t.posts} for t in tags],
                                   "window_hours": window_hours})
