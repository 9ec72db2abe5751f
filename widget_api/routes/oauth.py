"""Google Calendar connect: consent redirect and OAuth callback."""

from fastapi import APIRouter

router = APIRouter(tags=["calendar"])
