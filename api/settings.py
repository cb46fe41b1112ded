"""Settings from the environment (prefix ``NRW_SITES_``), built here and passed down."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Service settings; e.g. ``NRW_SITES_DATA=/srv/nrw-sites``."""

    model_config = SettingsConfigDict(env_prefix="NRW_SITES_", env_file=".env", extra="ignore")

    data: Path = Field(Path("data"), description="data directory holding snapshots/ and CURRENT")
    demo_sites: int = Field(2000, ge=10, le=200_000, description="sites for the first demo build")
    demo_seed: int = 42
    max_body_bytes: int = Field(2_000_000, ge=1_000, description="largest accepted request body")
    max_vertices: int = Field(20_000, ge=4, description="most vertices in a POSTed geometry")
    max_bundle_bytes: int = Field(
        200_000_000, ge=1_000, description="largest sources bundle (zip) POSTed by an admin"
    )
    max_unpacked_bytes: int = Field(
        2_000_000_000, ge=1_000, description="most bytes a sources bundle may unpack to"
    )
    max_in_flight: int = Field(
        16,
        ge=0,
        description="requests served at once per worker; as "
        "many more wait up to max_wait_ms, the "
        "rest get 429 with Retry-After (0 = off)",
    )
    max_wait_ms: float = Field(
        100,
        ge=0,
        le=10_000,
        description="longest wait for a slot (a request expected to wait longer gets 429 at once)",
    )
    shed_pace_ms: float = Field(
        0,
        ge=0,
        le=1_000,
        description="a 429 is answered no sooner than this after its request came (0 = at once): "
        "clients that ignore Retry-After then ask at most 1000/shed_pace_ms times a second, which "
        "serves more admitted requests under overload but makes every 429 slower",
    )
    reload_check_s: float = Field(
        0.25,
        ge=0.05,
        description="how often a worker looks whether CURRENT names another snapshot (a publish by any "
        "replica or the command line is served this long plus the load time later)",
    )
    max_limit: int = Field(10_000, ge=1, le=10_000)
    gzip_level: int = Field(1, ge=1, le=9)
    shared_cache_s: int = Field(
        60,
        ge=0,
        le=86_400,
        description="how long a reverse proxy or CDN may serve a public answer without asking again "
        "(Cache-Control s-maxage; browsers always revalidate; 0 = shared caches revalidate too)",
    )
    basemap_url: str | None = Field(
        None,
        description="optional raster base map for the web UI, an XYZ template such as "
        "https://tiles.example.org/{z}/{x}/{y}.png; off by default (offline)",
    )
    basemap_attribution: str | None = Field(None, description="attribution of the base map")
    shutdown_grace_s: int = Field(
        30,
        ge=1,
        le=600,
        description="on SIGTERM, requests in flight get this long to finish before the server stops",
    )
    log_queue_lines: int = Field(
        10_000,
        ge=10,
        le=1_000_000,
        description="log lines held while the log sink (stderr) is stalled; more are dropped and "
        "counted (/healthz log_dropped), never blocking a request",
    )
    audit_retention_days: float = Field(
        365,
        ge=1,
        le=3650,
        description="how long the audit trail of confidential reads is kept (whole months are "
        "deleted once they lie this long ago)",
    )
    session_idle_minutes: float = Field(
        30, gt=0, le=24 * 60, description="a web-map sign-in ends after this long without a request"
    )
    session_max_hours: float = Field(
        10, gt=0, le=7 * 24, description="a web-map sign-in ends this long after it began, in any case"
    )
    publisher: str = Field(
        "NRW Site Finder",
        description="who publishes this deployment's data (the DCAT catalogue's dct:publisher)",
    )
    publisher_url: str | None = Field(None, description="the publisher's web site")
    public_url: str | None = Field(
        None,
        description="the service's public base URL, e.g. "
        "https://sites.example.nrw (catalogue links; default: the "
        "URL of the request)",
    )
