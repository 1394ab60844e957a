"""Local fake forges for tests: Gitee v5, GitHub REST, GitLab v4 and Gitea v1 in a thread.

A forge we cannot reach in a test is replaced by :class:`ForgeServer`, a real HTTP server
on 127.0.0.1 that implements the documented endpoints repotrack calls, checks request
shapes the way the real forge would (token, required fields, form vs JSON), records
every call, and can be told to fail (``fail_next``) with a 500 or a 429 + Retry-After.
With ``git_root`` it also serves the repositories over git smart HTTP, so a pipeline can
push branches to ``target.clone_url`` with the token as the password.

Typical use::

    with ForgeServer("gitee", token="t0ken") as forge:
        settings = forge.forge_settings()          # [forges.gitee] pointing at the fake
        ...                                        # run the code under test
        assert forge.issues("owner/name")[0].title.startswith("[patch tracking]")
"""

from tests.forges.server import Call, FakeIssue, FakePull, ForgeServer

__all__ = ["Call", "FakeIssue", "FakePull", "ForgeServer"]
