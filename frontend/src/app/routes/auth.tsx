import { Link, Navigate, useNavigate } from "react-router";
import { AuthCard, LoginForm, RegisterForm } from "@/features/auth";
import { useSession } from "@/lib/session";

export function LoginRoute() {
  const navigate = useNavigate();
  if (useSession.getState().accessToken) return <Navigate to="/" replace />;
  return (
    <AuthCard title="Welcome back" subtitle="Log in to see photos from the people you follow."
      footer={<>New here? <Link to="/register" className="font-semibold text-primary hover:underline">Create an account</Link></>}>
      <LoginForm onDone={() => navigate("/", { replace: true })} />
    </AuthCard>
  );
}

export function RegisterRoute() {
  const navigate = useNavigate();
  if (useSession.getState().accessToken) return <Navigate to="/" replace />;
  return (
    <AuthCard title="Create your account" subtitle="Share photos, follow friends, see it all live."
      footer={<>Have an account? <Link to="/login" className="font-semibold text-primary hover:underline">Log in</Link></>}>
      <RegisterForm onDone={() => navigate("/explore", { replace: true })} />
    </AuthCard>
  );
}
