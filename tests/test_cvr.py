"""The CVR register client against a real local HTTP server that answers like the register."""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import pytest

from bot import cvr, wording
from bot.cvr import Company, CvrClient, InvalidCvr, RegisterUnavailable
from tests.fakes.cvr_register import ERROR, MALFORMED, NOT_FOUND, OK, SLOW, UNEXPECTED, FakeCvrRegister

KOEGE = "29189374"
RETRIES = 2


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def register() -> Iterator[FakeCvrRegister]:
    with FakeCvrRegister(delay=2.0) as server:
        yield server


@pytest.fixture
def make_client(register: FakeCvrRegister) -> Iterator[Callable[..., CvrClient]]:
    clients: list[CvrClient] = []

    def make(**overrides: object) -> CvrClient:
        options: dict = dict(url=register.url, user=register.user, password=register.password,
                             timeout=0.3, retries=RETRIES, cache_seconds=60, backoff=0.01)
        options.update(overrides)
        clients.append(CvrClient(**options))
        return clients[-1]

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client: Callable[..., CvrClient]) -> CvrClient:
    return make_client()


# -- validation ------------------------------------------------------------------------------
@pytest.mark.parametrize("number", ["29189374", "DK29189374", "dk 29 18 93 74", " 2918 9374 ", "DK-29189374"])
def test_valid_numbers_are_compacted(number: str) -> None:
    assert cvr.validate(number) == KOEGE


@pytest.mark.parametrize(("number", "reason", "message"), [
    ("2918937", "length", "Et CVR-nummer har 8 cifre."),
    ("291893741", "length", "Et CVR-nummer har 8 cifre."),
    ("2918937a", "format", "Et CVR-nummer består kun af 8 cifre."),
    ("abcdefgh", "format", "Et CVR-nummer består kun af 8 cifre."),
    ("", "format", "Et CVR-nummer består kun af 8 cifre."),
    ("09189374", "leading_zero", "Et CVR-nummer begynder aldrig med 0."),
    ("29189375", "checksum", "Det CVR-nummer findes ikke – kontrolcifferet passer ikke."),
])
def test_invalid_numbers_get_a_danish_message_and_make_no_request(
        number: str, reason: str, message: str, client: CvrClient, register: FakeCvrRegister) -> None:
    with pytest.raises(InvalidCvr) as error:
        client.lookup(number)
    assert isinstance(error.value, ValueError)
    assert error.value.reason == reason
    assert wording.text(f"utter_cvr_invalid_{reason}").startswith(message.rstrip("."))  # what the user reads
    assert register.requests == []


# -- answers ---------------------------------------------------------------------------------
def test_found_company_has_a_formatted_address(client: CvrClient, register: FakeCvrRegister) -> None:
    assert client.lookup("DK 29 18 93 74") == Company(
        cvr=KOEGE, name="KØGE KOMMUNE", address="Torvet 1, 4600 Køge",
        industry="Generelle offentlige tjenester", status="NORMAL")
    [request] = register.requests
    assert request.authorized and request.cvr == KOEGE
    assert request.body["query"] == {"term": {"Vrvirksomhed.cvrNummer": 29189374}}


def test_every_address_field_is_formatted(client: CvrClient) -> None:
    company = client.lookup("12345674")
    assert company is not None
    assert company.address == "c/o Revisor Hansen, Søndre Alle 12B, 1. th, Ølsemagle, 4600 Køge"
    assert (company.industry, company.status) == (None, "OPHØRT")


@pytest.mark.parametrize(("fields", "line"), [
    ({"vejnavn": "Torvet", "husnummerFra": 1, "etage": "st", "postnummer": 4600, "postdistrikt": "Køge"},
     "Torvet 1, st., 4600 Køge"),
    ({"vejnavn": "Torvet", "husnummerFra": 1, "bynavn": "Køge", "postnummer": 4600, "postdistrikt": "Køge"},
     "Torvet 1, 4600 Køge"),
    ({"postnummer": 4600, "postdistrikt": "Køge"}, "4600 Køge"),
    ({}, None),
    (None, None),
])
def test_format_address(fields: dict | None, line: str | None) -> None:
    assert cvr.format_address(fields) == line


def test_not_found_is_none(client: CvrClient, register: FakeCvrRegister) -> None:
    register.mode = NOT_FOUND
    assert client.lookup(KOEGE) is None
    assert client.lookup("10150817") is None  # unknown to the register even in mode OK
    assert len(register.requests) == 2


# -- failures --------------------------------------------------------------------------------
def test_server_error_is_retried_then_unavailable(client: CvrClient, register: FakeCvrRegister) -> None:
    register.mode = ERROR
    with pytest.raises(RegisterUnavailable) as error:
        client.lookup(KOEGE)
    assert error.value.kind == "http_500"
    assert len(register.requests) == RETRIES + 1


def test_one_server_error_then_success(client: CvrClient, register: FakeCvrRegister) -> None:
    register.queue(ERROR, OK)
    company = client.lookup(KOEGE)
    assert company is not None and company.name == "KØGE KOMMUNE"
    assert len(register.requests) == 2


def test_backoff_doubles_between_attempts(make_client: Callable[..., CvrClient],
                                          register: FakeCvrRegister) -> None:
    pauses: list[float] = []
    client = make_client(backoff=0.5, sleep=pauses.append)
    register.mode = ERROR
    with pytest.raises(RegisterUnavailable):
        client.lookup(KOEGE)
    assert pauses == [0.5, 1.0]


def test_timeout_is_retried_then_unavailable(client: CvrClient, register: FakeCvrRegister) -> None:
    register.mode = SLOW
    with pytest.raises(RegisterUnavailable) as error:
        client.lookup(KOEGE)
    assert error.value.kind == "timeout"
    assert len(register.requests) == RETRIES + 1


def test_unreachable_register_is_unavailable() -> None:
    with FakeCvrRegister() as stopped:
        url = stopped.url
    with CvrClient(url, "u", "p", timeout=0.3, retries=1, backoff=0.01) as client:
        with pytest.raises(RegisterUnavailable) as error:
            client.lookup(KOEGE)
    assert error.value.kind == "unreachable"


@pytest.mark.parametrize("mode", [MALFORMED, UNEXPECTED])
def test_malformed_or_unexpected_answer_is_unavailable_without_retry(
        mode: str, client: CvrClient, register: FakeCvrRegister) -> None:
    register.mode = mode
    with pytest.raises(RegisterUnavailable) as error:
        client.lookup(KOEGE)
    assert error.value.kind == {MALFORMED: "malformed", UNEXPECTED: "unexpected_structure"}[mode]
    assert len(register.requests) == 1


def test_wrong_credentials_are_not_retried(make_client: Callable[..., CvrClient],
                                           register: FakeCvrRegister) -> None:
    client = make_client(password="forkert")
    with pytest.raises(RegisterUnavailable) as error:
        client.lookup(KOEGE)
    assert error.value.kind == "auth"
    [request] = register.requests
    assert not request.authorized


def test_logs_name_neither_credentials_nor_answer(make_client: Callable[..., CvrClient],
                                                  register: FakeCvrRegister,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    client = make_client()
    register.queue(ERROR, UNEXPECTED)
    with pytest.raises(RegisterUnavailable):
        client.lookup(KOEGE)
    with pytest.raises(RegisterUnavailable):
        make_client(password="forkert").lookup("12345674")
    cvr_logs = "\n".join(r.getMessage() for r in caplog.records if r.name == "bot.cvr")
    assert KOEGE in cvr_logs and "http_500" in cvr_logs and "unexpected_structure" in cvr_logs
    assert "auth" in cvr_logs
    for secret in (register.password, "forkert", register.user, "fake failure", "KØGE KOMMUNE"):
        assert secret not in caplog.text


# -- cache -----------------------------------------------------------------------------------
def test_second_lookup_is_served_from_the_cache(client: CvrClient, register: FakeCvrRegister) -> None:
    first = client.lookup(KOEGE)
    assert client.lookup("DK" + KOEGE) == first
    register.mode = NOT_FOUND
    assert client.lookup("10150817") is None
    assert client.lookup("10150817") is None  # not found is cached as well
    assert len(register.requests) == 2


def test_cache_expires(make_client: Callable[..., CvrClient], register: FakeCvrRegister) -> None:
    clock = Clock()
    client = make_client(cache_seconds=60, clock=clock)
    client.lookup(KOEGE)
    clock.now += 59
    client.lookup(KOEGE)
    assert len(register.requests) == 1
    clock.now += 2
    client.lookup(KOEGE)
    assert len(register.requests) == 2


def test_cache_is_bounded(make_client: Callable[..., CvrClient], register: FakeCvrRegister) -> None:
    client = make_client(cache_size=2)
    for number in (KOEGE, "12345674", "10150817"):  # the third pushes out the first
        client.lookup(number)
    client.lookup("10150817")
    client.lookup(KOEGE)
    assert [r.cvr for r in register.requests] == [KOEGE, "12345674", "10150817", KOEGE]


def test_failures_are_not_cached(client: CvrClient, register: FakeCvrRegister) -> None:
    register.queue(*[ERROR] * (RETRIES + 1))
    with pytest.raises(RegisterUnavailable):
        client.lookup(KOEGE)
    assert client.lookup(KOEGE) is not None


# -- settings --------------------------------------------------------------------------------
def test_client_reads_the_settings(register: FakeCvrRegister, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CVR_API_URL", register.url + "/")
    monkeypatch.setenv("CVR_API_USER", register.user)
    monkeypatch.setenv("CVR_API_PASSWORD", register.password)
    monkeypatch.setenv("CVR_API_TIMEOUT", "0.3")
    monkeypatch.setenv("CVR_API_RETRIES", "1")
    monkeypatch.setenv("CVR_CACHE_SECONDS", "0")  # no caching
    cvr.default_client.cache_clear()
    try:
        assert cvr.lookup(KOEGE) is not None
        assert cvr.lookup(KOEGE) is not None
        assert len(register.requests) == 2
        register.mode = ERROR
        with pytest.raises(RegisterUnavailable):
            cvr.lookup(KOEGE)
        assert len(register.requests) == 4  # one retry
    finally:
        cvr.default_client().close()
        cvr.default_client.cache_clear()
