"""Hosted pages and the embed script: /widget.js, /b/{link}, /demo/chat."""

from fastapi import APIRouter

router = APIRouter(tags=["pages"])
