"""The admin API (SPEC §7). Bearer MEETINGS_ADMIN_TOKEN."""

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])
