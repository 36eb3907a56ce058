"""`accord search --depth 2` and `accord watch ...` as people type them, against live servers."""

from __future__ import annotations

import datetime as dt
import json

from tests.conftest import NOW
from tests.integration.conftest import LiveFederation
from tests.integration.test_cli_release_audit import accord
from tests.integration.test_search import cad_call, tip
from tests.integration.test_sweep import harbor_interview


async def test_search_with_depth_shows_linked_pointers_and_notices(
    federation: LiveFederation,
) -> None:
    federation.ingest("rivertown_pd", [cad_call()])
    federation.ingest("tip_hotline", [tip()])
    federation.ingest("harbor_pd", [harbor_interview()])
    lakeside = str(federation.fed.node_config("lakeside_so"))
    harbor = str(federation.fed.node_config("harbor_pd"))
    token = federation.token("lakeside_so", sub="det.morales")

    code, out, err = await accord("search", "--config", lakeside, "--token", token,
                                  "--case", "LS-1", "--purpose", "human_trafficking",
                                  "--name", "Jazmin Ramirez", "--dob", "1999-03-04",
                                  "--depth", "2", "--json")
    assert code == 0, err
    data = json.loads(out)
    [cad] = data["pointers"]
    assert sorted((p["agency"], p["record_type"], p["depth"]) for p in data["linked"]) == [
        ("harbor_pd", "field_interview", 2), ("tip_hotline", "hotline_tip", 2)]
    assert {(v["pointer"], v["agency"], v["kind"]) for p in data["linked"] for v in p["via"]} == {
        (cad["handle"], "rivertown_pd", "phone")}

    code, out, err = await accord("search", "--config", lakeside, "--token", token,
                                  "--case", "LS-1", "--purpose", "human_trafficking",
                                  "--name", "Jazmin Ramirez", "--dob", "1999-03-04",
                                  "--depth", "2")
    assert code == 0, err
    assert "2 linked pointer(s) from the sweep" in out
    assert "phone shared with a cad_call at rivertown_pd" in out

    code, out, err = await accord("search", "--config", harbor, "--token",
                                  federation.token("harbor_pd", sub="det.kane"),
                                  "--case", "HB-7", "--purpose", "human_trafficking",
                                  "--name", "Jazmin Ramirez", "--dob", "1999-03-04")
    assert code == 0, err
    assert ("deconfliction: Lakeside County Sheriff's Office (lakeside_so) searched the same "
            "subject (name_dob)") in " ".join(out.split())

    code, _, err = await accord("search", "--config", lakeside, "--token", token,
                                "--case", "LS-1", "--purpose", "human_trafficking",
                                "--phone", "503-555-0142", "--depth", "4")
    assert code == 2
    assert "Invalid value for '--depth': 4 is not in the range 1<=x<=3" in err


async def test_watch_commands(federation: LiveFederation) -> None:
    lakeside = str(federation.fed.node_config("lakeside_so"))
    token = federation.token("lakeside_so", sub="det.morales")

    code, out, err = await accord("watch", "add", "--config", lakeside, "--token", token,
                                  "--case", "LS-1", "--purpose", "human_trafficking",
                                  "--phone", "(503) 555-0142", "--label", "Jazzy's phone",
                                  "--days", "7", "--json")
    assert code == 0, err
    watch = json.loads(out)
    assert (watch["state"], watch["label"], watch["kinds"]) == ("active", "Jazzy's phone",
                                                                 ["phone"])

    federation.ingest("harbor_pd", [harbor_interview()], at=NOW + dt.timedelta(hours=1))
    assert await federation.hub.watches.check_all(NOW + dt.timedelta(hours=2)) == 1

    code, out, err = await accord("watch", "notifications", "--config", lakeside, "--token",
                                  token, "--json")
    assert code == 0, err
    [note] = json.loads(out)
    assert (note["kind"], note["watch_id"], note["pointer"]["agency"]) == (
        "watch_match", watch["watch_id"], "harbor_pd")
    code, out, err = await accord("watch", "notifications", "--config", lakeside, "--token",
                                  token)
    assert code == 0, err
    assert f"watch {watch['watch_id']} (LS-1): harbor_pd holds a field_interview" in out

    code, out, err = await accord("watch", "list", "--config", lakeside, "--token", token,
                                  "--json")
    assert code == 0, err
    assert [(w["watch_id"], w["notifications"]) for w in json.loads(out)] == [
        (watch["watch_id"], 1)]
    code, out, err = await accord("watch", "remove", watch["watch_id"], "--config", lakeside,
                                  "--token", token, "--json")
    assert code == 0, err
    removed = json.loads(out)
    assert (removed["state"], removed["notifications"]) == ("removed", 1)
    code, out, err = await accord("watch", "list", "--config", lakeside, "--token", token)
    assert code == 0, err
    assert "No watches." in out

    code, _, err = await accord("watch", "remove", "w_nonsense", "--config", lakeside,
                                "--token", token)
    assert code == 2  # bad input, as the server says
    assert err.strip() == ("error: invalid_argument: RemoveWatchRequest.watch_id: got "
                           "'w_nonsense', want a watch id like 'w_3f9c...'")


async def test_search_and_watch_name_their_agreement(federation: LiveFederation) -> None:
    federation.ingest("rivertown_pd", [cad_call()])
    lakeside = str(federation.fed.node_config("lakeside_so"))
    token = federation.token("lakeside_so", sub="det.morales")
    agreement = "local-pilot"  # the test federation's one agreement
    ask = ("--config", lakeside, "--token", token, "--case", "LS-1",
           "--purpose", "human_trafficking", "--phone", "503-555-0142")

    code, out, err = await accord("search", *ask, "--agreement", agreement, "--json")
    assert code == 0, err
    assert [p["agency"] for p in json.loads(out)["pointers"]] == ["rivertown_pd"]

    # Named, the agreement is checked: one the agency is not in is bad input (exit 2).
    code, out, err = await accord("search", *ask, "--agreement", "other-pact")
    assert (code, out) == (2, "")
    assert err.strip() == ("error: invalid_argument: agreement: 'other-pact' is not an "
                           "agreement lakeside_so belongs to; want one of [local-pilot]")

    code, out, err = await accord("watch", "add", *ask, "--agreement", agreement, "--json")
    assert code == 0, err
    assert json.loads(out)["agreement"] == agreement
    code, _, err = await accord("watch", "add", *ask, "--agreement", "other-pact")
    assert code == 2 and "'other-pact' is not an agreement lakeside_so belongs to" in err
