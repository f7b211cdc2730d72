//! The X11 idle back-end against a real X server (Xvfb): idle time grows while nobody
//! touches anything and drops when xdotool moves the mouse; full-screen windows are
//! recognised from the EWMH properties a window manager sets.

mod util;

use std::time::Duration;

use idlewatt::idle::{IdleSource, x11::X11Idle};
use util::xvfb::Xvfb;
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{AtomEnum, ConnectionExt, CreateWindowAux, PropMode, WindowClass};
use x11rb::wrapper::ConnectionExt as _;

#[test]
fn idle_time_grows_then_resets_on_input() {
    let x = Xvfb::start();
    let mut idle = X11Idle::connect(Some(&x.display)).expect("connect to Xvfb");
    assert_eq!(idle.name(), "x11");
    x.touch_mouse();
    let fresh = idle.idle_time().expect("idle time");
    std::thread::sleep(Duration::from_millis(600));
    let later = idle.idle_time().expect("idle time");
    // Xvfb's idle clock runs a little slow: leave slack.
    assert!(later >= fresh + Duration::from_millis(400), "idle went {fresh:?} -> {later:?}");
    x.touch_mouse();
    let after = idle.idle_time().expect("idle time");
    assert!(after < Duration::from_millis(200), "input did not reset idle: {after:?}");
}

#[test]
fn no_display_is_a_clear_error() {
    let err = X11Idle::connect(Some(":4097")).expect_err("no such display");
    let msg = err.to_string();
    assert!(msg.starts_with("x11: cannot open the X display"), "{msg}");
}

#[test]
fn fullscreen_focused_window_is_detected() {
    let x = Xvfb::start();
    let probe = X11Idle::connect(Some(&x.display)).expect("connect");
    assert!(!probe.is_fullscreen().expect("query"), "no window manager, no active window");

    // Play the window manager: a window, focused and marked full-screen.
    let (conn, screen) = x11rb::connect(Some(&x.display)).expect("connect");
    let root = conn.setup().roots[screen].root;
    let win = conn.generate_id().expect("id");
    conn.create_window(0, win, root, 0, 0, 1280, 720, 0, WindowClass::INPUT_OUTPUT, 0, &CreateWindowAux::new())
        .expect("create window");
    let atom = |name: &[u8]| conn.intern_atom(false, name).expect("intern").reply().expect("atom").atom;
    let (active, state, fullscreen) =
        (atom(b"_NET_ACTIVE_WINDOW"), atom(b"_NET_WM_STATE"), atom(b"_NET_WM_STATE_FULLSCREEN"));
    conn.change_property32(PropMode::REPLACE, root, active, AtomEnum::WINDOW, &[win]).expect("set active");
    conn.change_property32(PropMode::REPLACE, win, state, AtomEnum::ATOM, &[]).expect("clear state");
    conn.sync().expect("sync");
    assert!(!probe.is_fullscreen().expect("query"), "focused but windowed");

    conn.change_property32(PropMode::REPLACE, win, state, AtomEnum::ATOM, &[fullscreen]).expect("set fullscreen");
    conn.sync().expect("sync");
    assert!(probe.is_fullscreen().expect("query"), "focused and full-screen");

    conn.destroy_window(win).expect("destroy");
    conn.sync().expect("sync");
    assert!(!probe.is_fullscreen().expect("query"), "a closed window is not full-screen");
}
