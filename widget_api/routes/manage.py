"""The hosted manage page at /manage/{manage_token}: see, cancel, reschedule a booking."""

from fastapi import APIRouter

router = APIRouter(tags=["pages"])
