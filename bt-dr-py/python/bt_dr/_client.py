"""The appliance API client."""

import datetime as _dt
import os
from pathlib import Path
from types import TracebackType
from typing import Any, Callable, Dict, List, Mapping, Optional, Type, Union

from . import _native
from ._model import (
    ApiInfo,
    ApplianceInfo,
    ArchiveEntry,
    BackupDownload,
    ConnectedClient,
    DownloadedFile,
    Health,
    Probe,
    RoleChange,
    Session,
    Site,
    TimeWindow,
)

__all__ = ["Client", "ProgressCallback", "StrPath"]

ProgressCallback = Callable[[int, Optional[int]], Any]
"""Called as bytes arrive: ``progress(done, total)``; ``total`` is ``None`` when unknown.
Raising from it stops the download (the partial file is removed) and the exception propagates."""

StrPath = Union[str, "os.PathLike[str]"]


def _ca_bytes(ca_file: Optional[StrPath], ca_pem: Union[str, bytes, None]) -> Optional[bytes]:
    """The extra CA as PEM bytes: a file, inline PEM, or both concatenated."""
    pem: Optional[bytes] = None
    if ca_file is not None:
        pem = Path(ca_file).read_bytes()
    if ca_pem is not None:
        extra = ca_pem.encode() if isinstance(ca_pem, str) else bytes(ca_pem)
        pem = extra if pem is None else pem + b"\n" + extra
    return pem


def _day(d: Union[str, _dt.date]) -> str:
    return d.isoformat() if isinstance(d, _dt.date) else str(d)


class Client:
    """A client for one appliance's web APIs (OAuth, Command, Backup, Reporting).

    Use it as a context manager. Every call blocks the calling thread but releases the GIL,
    so several threads can download at once; Ctrl-C interrupts a call (a download then
    leaves no partial file). Secrets are passed to the native client and not kept here.

    >>> with Client("https://support.example.com", "id", os.environ["BT_SECRET"],
    ...             ca_file="ca.pem") as c:                      # doctest: +SKIP
    ...     print(c.check_health().failover_role)
    """

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        *,
        ca_file: Optional[StrPath] = None,
        ca_pem: Union[str, bytes, None] = None,
        only_extra_ca: bool = False,
        pin_sha256: Optional[str] = None,
        danger_accept_invalid_certs: bool = False,
        danger_allow_http: bool = False,
        connect_timeout: Optional[float] = None,
        read_timeout: Optional[float] = None,
        request_timeout: Optional[float] = None,
        rate_limit_per_second: Optional[int] = None,
        site_name: Optional[str] = None,
        product: Optional[str] = None,
        retry: Optional[Mapping[str, float]] = None,
    ) -> None:
        self._native = _native.NativeClient(
            base_url,
            client_id,
            client_secret,
            ca_pem=_ca_bytes(ca_file, ca_pem),
            only_extra_ca=only_extra_ca,
            pin_sha256=pin_sha256,
            danger_accept_invalid_certs=danger_accept_invalid_certs,
            danger_allow_http=danger_allow_http,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            request_timeout=request_timeout,
            rate_limit_per_second=rate_limit_per_second,
            site_name=site_name,
            product=product,
            retry=dict(retry) if retry is not None else None,
        )

    @classmethod
    def for_appliance(
        cls,
        site: Union["Site", Mapping[str, Any]],
        hostname: str,
        *,
        client_id: Optional[str] = None,
        client_secret: Optional[str] = None,
        **options: Any,
    ) -> "Client":
        """A client for one appliance of an inventory site.

        The URL is the appliance's ``api_url`` (else ``https://<hostname>``); the client id, CA
        file and pin come from the site's ``api`` section and the secret from the environment
        variable it names, unless given here. Other keyword arguments are those of ``Client``.
        """
        s = site if isinstance(site, Site) else Site.from_dict(site)
        opts = {k: v for k, v in options.items() if v is not None}
        pem = _ca_bytes(opts.pop("ca_file", None), opts.pop("ca_pem", None))
        if "retry" in opts:
            opts["retry"] = dict(opts["retry"])
        native = _native.NativeClient(
            None, client_id, client_secret, site=s._native(), hostname=hostname, ca_pem=pem, **opts
        )
        client = cls.__new__(cls)
        client._native = native
        return client

    @classmethod
    def for_pair(
        cls,
        site: Union["Site", Mapping[str, Any]],
        *,
        client_id: Optional[str] = None,
        client_secret: Optional[str] = None,
        **options: Any,
    ) -> Dict[str, "Client"]:
        """Clients for the intended primary and backup of a site's failover pair, by hostname."""
        s = site if isinstance(site, Site) else Site.from_dict(site)
        hosts = [a.hostname for a in (s.intended_primary(), s.intended_backup()) if a is not None]
        return {
            h: cls.for_appliance(s, h, client_id=client_id, client_secret=client_secret, **options)
            for h in hosts
        }

    # ------------------------------------------------------------ lifecycle

    def __enter__(self) -> "Client":
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.close()

    def close(self) -> None:
        """Releases the connections and the I/O runtime; later calls raise ``InvalidInput``."""
        self._native.close()

    @property
    def closed(self) -> bool:
        """Whether ``close()`` was called."""
        return self._native.closed

    @property
    def base_url(self) -> str:
        """The appliance's base URL."""
        return self._native.base_url

    @property
    def host(self) -> str:
        """The appliance host."""
        return self._native.host

    @property
    def client_id(self) -> str:
        """The OAuth client id (not secret)."""
        return self._native.client_id

    @property
    def product(self) -> str:
        """``rs`` or ``pra`` (picks report names)."""
        return self._native.product

    def served_leaf_sha256(self) -> Optional[str]:
        """SHA-256 (hex) of the leaf certificate the appliance presented in this client's most
        recent TLS handshake, trusted or not; ``None`` before the first connection and over
        plain http. The failover plan and the audit compare it across a pair."""
        return self._native.served_leaf_sha256()

    def __repr__(self) -> str:
        state = ", closed" if self.closed else ""
        return f"Client(base_url={self.base_url!r}, client_id={self.client_id!r}{state})"

    # ------------------------------------------------------------ command API

    def check_health(self) -> Health:
        """Authenticated ``check_health``: version, failover role, last data sync."""
        return Health.from_dict(self._native.check_health())

    def probe_health(self) -> Probe:
        """The unauthenticated ``/check_health`` probe (200 healthy, 500 not)."""
        return Probe.from_dict(self._native.probe_health())

    def get_api_info(self) -> ApiInfo:
        """API version and the account's permissions."""
        return ApiInfo.from_dict(self._native.get_api_info())

    def get_appliances(self) -> List[ApplianceInfo]:
        """The appliances of the failover pair or Atlas cluster."""
        return [ApplianceInfo.from_dict(a) for a in self._native.get_appliances()]

    def get_connected_clients(self) -> List[ConnectedClient]:
        """Clients connected to the appliance (who a planned failover would disconnect)."""
        return [ConnectedClient.from_dict(c) for c in self._native.get_connected_clients()]

    def set_failover_role(
        self, role: str, *, data_sync_first: bool = False, force: bool = False
    ) -> RoleChange:
        """Changes this appliance's failover role (``primary`` or ``backup``). Never retried."""
        return RoleChange.from_dict(
            self._native.set_failover_role(role, data_sync_first=data_sync_first, force=force)
        )

    # ------------------------------------------------------------ backup API

    def download_backup(
        self,
        directory: StrPath,
        *,
        password: Optional[str] = None,
        progress: Optional[ProgressCallback] = None,
    ) -> BackupDownload:
        """Streams the site backup (NSB) into ``directory`` with its SHA-256 and a sidecar.

        The file appears under its final name only when complete and verified.
        """
        return BackupDownload.from_dict(
            self._native.download_backup(os.fspath(directory), password=password, progress=progress)
        )

    # ------------------------------------------------------------ reporting API

    def list_sessions(self, window: Union[TimeWindow, Mapping[str, Any]]) -> List[Session]:
        """Sessions in one time window."""
        w = (window if isinstance(window, TimeWindow) else TimeWindow.from_dict(window))._native()
        return [Session.from_dict(s) for s in self._native.list_sessions(w)]

    def get_session(self, lsid: str) -> Session:
        """The session report of one session."""
        return Session.from_dict(self._native.get_session(lsid))

    def download_recording(
        self, lsid: str, directory: StrPath, *, progress: Optional[ProgressCallback] = None
    ) -> DownloadedFile:
        """Streams a session recording into ``directory`` as ``<lsid>.<ext>``."""
        return DownloadedFile.from_dict(
            self._native.download_recording(lsid, os.fspath(directory), progress=progress)
        )

    def download_report(
        self,
        kind: str,
        window: Union[TimeWindow, Mapping[str, Any], str],
        directory: StrPath,
        *,
        progress: Optional[ProgressCallback] = None,
    ) -> DownloadedFile:
        """Saves one piece of Reporting API data into ``directory`` under a name bt-dr chooses.

        ``kind``: ``session_report``, ``session_recording``, ``show_my_screen_recording``,
        ``command_shell_recording``, ``presentation_recording`` (per session: ``window`` is a
        session id, or ``TimeWindow.for_lsid``), ``customer_exit_survey`` or ``rep_exit_survey``
        (for a time window). A kind the product does not have is ``InvalidInput``; a session
        without that recording is ``NotFound``; an error answer is never saved.
        """
        if isinstance(window, str):
            w = TimeWindow.for_lsid(window)._native()
        else:
            w = (window if isinstance(window, TimeWindow) else TimeWindow.from_dict(window))._native()
        return DownloadedFile.from_dict(
            self._native.download_report(kind, w, os.fspath(directory), progress=progress)
        )

    def list_archives(self, day: Union[str, _dt.date]) -> List[ArchiveEntry]:
        """``ArchiveListing`` for a day (an empty day is an empty list)."""
        return [ArchiveEntry.from_dict(a) for a in self._native.list_archives(_day(day))]

    def download_archive(
        self,
        kind: str,
        day: Union[str, _dt.date],
        index: int,
        directory: StrPath,
        *,
        progress: Optional[ProgressCallback] = None,
    ) -> DownloadedFile:
        """Streams one ``Archive`` (``state`` or ``event``, kept gzip-compressed) into ``directory``."""
        return DownloadedFile.from_dict(
            self._native.download_archive(kind, _day(day), index, os.fspath(directory), progress=progress)
        )
