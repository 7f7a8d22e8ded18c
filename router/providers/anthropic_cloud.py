"""Claude through the clouds: AWS Bedrock (``type: anthropic_bedrock``) and Google Vertex AI
(``type: anthropic_vertex``), with the ``anthropic`` package's ``AnthropicBedrock`` and
``AnthropicVertex`` clients (and their async twins).

Both speak the Messages API with the model in the URL (the client moves it there from the
body): Bedrock ``/model/{id}/invoke`` and ``/invoke-with-response-stream`` (streams framed as
AWS event streams, :mod:`router.providers._eventstream`), Vertex
``/projects/{p}/locations/{r}/publishers/anthropic/models/{id}:rawPredict`` and
``:streamRawPredict`` (SSE). Requests, answers, tools, images and errors are the Messages API's
(:mod:`router.providers._anthropic_wire`), so is the streaming contract.

Credentials, regions and projects come from the spec, else from the environment as the clouds'
own tools read it: AWS_REGION / AWS_DEFAULT_REGION, AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY
(+ AWS_SESSION_TOKEN), AWS_PROFILE, then boto3's chain (config files, SSO, instance roles);
a Bedrock API key (``api_key_env``, e.g. AWS_BEARER_TOKEN_BEDROCK) instead of SigV4 signing.
CLOUD_ML_REGION, ANTHROPIC_VERTEX_PROJECT_ID (or GOOGLE_CLOUD_PROJECT), and an access token
(``token_env``) or else Application Default Credentials, found by google-auth as gcloud finds
them (the process's GOOGLE_APPLICATION_CREDENTIALS, ``gcloud auth application-default login``,
the metadata server).
SigV4 needs boto3/botocore (``pip install 'declarative-llm-router[bedrock]'``), ADC needs
google-auth (``[vertex]``): a missing one is a ProviderConfigError naming the extra.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, ClassVar

from router.errors import ProviderConfigError, ProviderError
from router.providers import extra_params as catalogue
from router.providers._clients import require_sdk, spec_only
from router.providers._eventstream import AWSEventStreamDecoder
from router.providers._sse import EventDecoder
from router.providers.anthropic import AnthropicAdapter
from router.providers.base import ProviderSettings
from router.specmodel import ExtraParam
from router.types import Request

__all__ = ["BedrockAdapter", "VertexAdapter"]

EXTRA = "pip install 'declarative-llm-router[{}]'"
_SCOPE = "https://www.googleapis.com/auth/cloud-platform"


class _CloudAnthropic(AnthropicAdapter):
    prepared_route = False  # the model goes into the URL per request; Bedrock signs each one
    #: The ``anthropic_version`` the cloud wants in the body (it takes no header).
    body_version: ClassVar[str]
    extra_params: ClassVar[Mapping[str, ExtraParam]] = catalogue.ANTHROPIC_CLOUD

    def _env(self, *names: str) -> str | None:
        env = self.settings.environment
        return next((env[n] for n in names if env.get(n)), None)

    def _api_key(self) -> str | None:
        return self.settings.api_key or None  # only what the spec names: never the SDK's env

    def _body(self, request: Request, *, stream: bool) -> dict[str, Any]:
        body = super()._body(request, stream=stream)
        body["anthropic_version"] = self.body_version
        return body

    def _unlisted(self) -> ProviderConfigError:
        return ProviderConfigError(
            f"provider misconfigured: {self.type_name} has no model list in its inference API "
            "(a model's id is the cloud's model id)",
            provider=self.settings.name,
        )

    def list_models(self) -> list[str]:
        raise self._unlisted()

    async def alist_models(self) -> list[str]:
        raise self._unlisted()


class BedrockAdapter(_CloudAnthropic):
    type_name = "anthropic_bedrock"
    body_version = "bedrock-2023-05-31"
    install = EXTRA.format("bedrock")
    stream_content_type = "vnd.amazon.eventstream"
    environment_names: ClassVar[tuple[str, ...]] = (
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
    )
    sandbox_environment: ClassVar[Mapping[str, str]] = MappingProxyType({"AWS_REGION": "us-east-1"})

    def __init__(self, settings: ProviderSettings) -> None:
        super().__init__(settings)
        self._region = settings.region or self._env("AWS_REGION", "AWS_DEFAULT_REGION")
        if not self._region:
            raise ProviderConfigError(
                "anthropic_bedrock needs a region: set `region:` on the provider, or AWS_REGION",
                provider=settings.name,
            )
        self._url_error = self._url_problem(settings.base_url)
        if not self._secret:  # SigV4: boto3 signs (and finds the credentials)
            for package in ("boto3", "botocore"):
                require_sdk(package, self.type_name, provider=settings.name, install=self.install)

    def _url_problem(self, url: str | None) -> BaseException | None:
        """What the HTTP stack would raise for ``url``, if anything."""
        if not url:
            return None
        try:
            parsed = self._httpx2.URL(url)
        except self._httpx2.InvalidURL as exc:
            return exc  # type: ignore[no-any-return]
        if parsed.scheme not in ("http", "https"):
            unsupported: BaseException = self._httpx2.UnsupportedProtocol(
                f"no http or https scheme in {url!r}"
            )
            return unsupported
        return None

    def _event_decoder(self) -> EventDecoder:
        return AWSEventStreamDecoder()

    def _error(
        self, exc: BaseException, request: Request | None, *, mid_stream: bool = False
    ) -> ProviderError:
        # SigV4 signing (botocore) fails on a URL the HTTP stack would refuse, before the
        # HTTP stack sees it: say what the HTTP stack would have said.
        if self._url_error is not None and not mid_stream:
            return super()._error(self._url_error, request)
        return super()._error(exc, request, mid_stream=mid_stream)

    def _make_client(self, *, use_async: bool) -> Any:
        s = self.settings
        cls = self._sdk.AsyncAnthropicBedrock if use_async else self._sdk.AnthropicBedrock
        client = cls(
            # A placeholder, so the SDK reads no AWS_BEARER_TOKEN_BEDROCK; set right below.
            api_key="-",
            aws_region=self._region,
            base_url=s.base_url or f"https://bedrock-runtime.{self._region}.amazonaws.com",
            timeout=self._timeout,
            max_retries=0,
            default_headers=dict(s.headers) or None,
            open_telemetry=False,
        )
        client.api_key = self._secret or None
        if not self._secret:
            client.aws_access_key = self._env("AWS_ACCESS_KEY_ID")
            client.aws_secret_key = self._env("AWS_SECRET_ACCESS_KEY")
            client.aws_session_token = self._env("AWS_SESSION_TOKEN")
            client.aws_profile = self._env("AWS_PROFILE")
        return spec_only(client, s.headers)


class VertexAdapter(_CloudAnthropic):
    type_name = "anthropic_vertex"
    body_version = "vertex-2023-10-16"
    install = EXTRA.format("vertex")
    #: Vertex URLs are ``{root}/v1/projects/...``; a base URL ends in ``/v1``.
    base_path: ClassVar[str] = "/v1"
    sandbox_credential = "token_env"
    environment_names: ClassVar[tuple[str, ...]] = (
        "CLOUD_ML_REGION",
        "ANTHROPIC_VERTEX_PROJECT_ID",
        "GOOGLE_CLOUD_PROJECT",
    )
    sandbox_environment: ClassVar[Mapping[str, str]] = MappingProxyType(
        {"CLOUD_ML_REGION": "us-east5", "ANTHROPIC_VERTEX_PROJECT_ID": "router-sandbox"}
    )

    def __init__(self, settings: ProviderSettings) -> None:
        super().__init__(settings)
        self._region = settings.region or self._env("CLOUD_ML_REGION")
        if not self._region:
            raise ProviderConfigError(
                "anthropic_vertex needs a region: set `region:` on the provider, or "
                "CLOUD_ML_REGION",
                provider=settings.name,
            )
        self._project = settings.project or self._env(
            "ANTHROPIC_VERTEX_PROJECT_ID", "GOOGLE_CLOUD_PROJECT"
        )
        self._google: Any = None
        if not settings.token:  # Application Default Credentials, through google-auth
            self._google = require_sdk(
                "google.auth", self.type_name, provider=settings.name, install=self.install
            )
            require_sdk(
                "google.auth.transport.requests",
                self.type_name,
                provider=settings.name,
                install=self.install,
            )

    def _base_url(self) -> str:
        if self.settings.base_url:
            return self.settings.base_url
        region = self._region
        if region == "global":
            return "https://aiplatform.googleapis.com/v1"
        if region in ("us", "eu"):
            return f"https://aiplatform.{region}.rep.googleapis.com/v1"
        return f"https://{region}-aiplatform.googleapis.com/v1"

    def _credentials(self) -> tuple[Any, str | None]:
        """Application Default Credentials (blocking: made with the client, never on a loop)."""
        try:  # the process's GOOGLE_APPLICATION_CREDENTIALS, gcloud's login, the metadata server
            creds, project = self._google.default(scopes=[_SCOPE])
        except Exception as exc:  # google.auth.exceptions.DefaultCredentialsError and kin
            raise ProviderConfigError(
                "authentication failed: no Google credentials found "
                f"({type(exc).__name__}); set token_env, GOOGLE_APPLICATION_CREDENTIALS, or run "
                "`gcloud auth application-default login`",
                provider=self.settings.name,
            ) from None
        return creds, project

    def _make_client(self, *, use_async: bool) -> Any:
        s = self.settings
        creds, project = (None, None) if s.token else self._credentials()
        project = self._project or project
        if not project:
            raise ProviderConfigError(
                "anthropic_vertex needs a project: set `project:` on the provider, or "
                "ANTHROPIC_VERTEX_PROJECT_ID",
                provider=s.name,
            )
        cls = self._sdk.AsyncAnthropicVertex if use_async else self._sdk.AnthropicVertex
        client = cls(
            region=self._region,
            project_id=project,
            access_token=s.token or None,
            credentials=creds,
            base_url=self._base_url(),
            timeout=self._timeout,
            max_retries=0,
            default_headers=dict(s.headers) or None,
            open_telemetry=False,
        )
        return spec_only(client, s.headers)
